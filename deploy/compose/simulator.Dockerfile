# The upstream simulator, for deploy/compose.yaml only (it is never part of the gateway image). Same base-image
# arguments as deploy/Dockerfile; build from the repository root.
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled

FROM ${SDK_IMAGE} AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/MixProxy.Simulator/ src/MixProxy.Simulator/
RUN ["dotnet", "publish", "src/MixProxy.Simulator/MixProxy.Simulator.csproj", "-c", "Release", "-o", "/out", "-p:UseAppHost=false"]

FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /out/ /app/
ENV Logging__LogLevel__Default=Warning
USER 1654
EXPOSE 8090
ENTRYPOINT ["dotnet", "/app/MixProxy.Simulator.dll", "--urls", "http://+:8090"]
