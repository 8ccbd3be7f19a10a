#!/usr/bin/env bash
# Makes the two base images deploy/Dockerfile is built on in the container test, from this machine's own .NET, because
# no registry can be reached here. Both are FROM scratch with the shared libraries .NET loads:
#   SDK base:     the libraries and the environment; the SDK itself (600 MB) and the NuGet packages come in as
#                 read-only volumes at build time (`buildah bud --volume`), which is far cheaper than a layer each run,
#                 and a NuGet.Config whose only source is that package folder (the build runs with no network).
#   runtime base: the dotnet host and the shared frameworks (Microsoft.NETCore.App, Microsoft.AspNetCore.App) only,
#                 as the official aspnet image has them, and a world-writable /tmp.
# Prints the two image names. Idempotent: an image already made for this .NET version is kept.
set -euo pipefail
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
version=$(ls "$dotnet_root/shared/Microsoft.AspNetCore.App" | sort -V | tail -1)
revision=1 # bump when this script changes what goes into the bases
sdk_image=localhost/mixproxy-test-sdk-base:$version-$revision
runtime_image=localhost/mixproxy-test-runtime-base:$version-$revision

# What the loader needs for the host, the runtime and the frameworks' native parts, plus what .NET opens by name
# later (OpenSSL, for HTTPS upstreams), each at the path the loader looks in.
libraries() {
  { ldd "$dotnet_root/dotnet"; find "$dotnet_root/host" "$dotnet_root/shared" -name '*.so' -exec ldd {} \;; } 2>/dev/null |
    awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
  ldconfig -p | awk '$1 ~ /^lib(ssl|crypto)\.so\.3$/ { print $NF }'
}

make_base() { # IMAGE WITH_RUNTIME
  local ctr mnt lib
  ctr=$(buildah from scratch)
  mnt=$(buildah mount "$ctr")
  for lib in $(libraries | sort -u); do
    mkdir -p "$mnt$(dirname "$lib")"
    cp -L "$lib" "$mnt$lib"
  done
  mkdir -p "$mnt/tmp" "$mnt/root" "$mnt/usr/share/dotnet" "$mnt/etc"
  chmod 1777 "$mnt/tmp"
  # Users as the official images have them (root, and app = 1654): .NET and NuGet look the current user up, and
  # without an entry NuGet retries the lookup for ever.
  printf 'root:x:0:0:root:/root:/sbin/nologin\napp:x:1654:1654:app:/home/app:/sbin/nologin\n' > "$mnt/etc/passwd"
  printf 'root:x:0:\napp:x:1654:\n' > "$mnt/etc/group"
  if [ "$2" = 0 ]; then
    mkdir -p "$mnt/root/.nuget/NuGet"
    cat > "$mnt/root/.nuget/NuGet/NuGet.Config" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="machine-packages" value="/root/.nuget/packages" />
  </packageSources>
</configuration>
XML
  fi
  if [ "$2" = 1 ]; then
    cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$dotnet_root/shared" "$mnt/usr/share/dotnet/"
  fi
  buildah umount "$ctr" >/dev/null
  buildah config --env PATH=/usr/share/dotnet:/usr/bin:/bin --env DOTNET_ROOT=/usr/share/dotnet --env HOME=/root \
    --env DOTNET_CLI_TELEMETRY_OPTOUT=1 --env DOTNET_NOLOGO=1 --env DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
    $([ "$2" = 0 ] && echo --env DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1) "$ctr"
  buildah commit --quiet "$ctr" "$1" >/dev/null
  buildah rm "$ctr" >/dev/null
}

buildah inspect --type image "$sdk_image" >/dev/null 2>&1 || make_base "$sdk_image" 0
buildah inspect --type image "$runtime_image" >/dev/null 2>&1 || make_base "$runtime_image" 1
echo "$sdk_image"
echo "$runtime_image"
echo "$dotnet_root"
