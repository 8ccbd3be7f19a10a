using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>W3C trace context across the hops, and traces exported over OTLP when an endpoint is configured.</summary>
public sealed class TracingTests
{
    [Fact]
    public async Task ClientTraceparent_ContinuesToTheUpstream_InTheSameTrace()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

        await client.PostJsonAsync(
            "/v1/chat/completions",
            """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""",
            ("traceparent", $"00-{TraceId}-00f067aa0ba902b7-01"));

        var upstream = Assert.Single(gateway.Upstream.Received).Headers["traceparent"];
        Assert.Matches($"^00-{TraceId}-[0-9a-f]{{16}}-01$", upstream);
        Assert.DoesNotContain("00f067aa0ba902b7", upstream, StringComparison.Ordinal); // the gateway's own span is the parent now
    }

    [Fact]
    public async Task WithAnOtlpEndpoint_TracesAreExported()
    {
        var received = new TaskCompletionSource<(string Path, long Bytes)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var collector = WebApplication.CreateSlimBuilder();
        collector.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = collector.Build();
        app.MapPost("/v1/traces", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            received.TrySetResult((context.Request.Path.Value!, buffer.Length));
            return Results.Ok();
        });
        await app.StartAsync(TestContext.Current.CancellationToken);

        await using var gateway = await GatewayFixture.StartAsync(args:
        [
            $"--OTEL_EXPORTER_OTLP_ENDPOINT={app.Urls.First()}",
            "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
            "--OTEL_BSP_SCHEDULE_DELAY=100",
        ]);
        using var client = gateway.CreateClient();
        var (status, _, _) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""");

        var (path, bytes) = await received.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("/v1/traces", path);
        Assert.True(bytes > 0);
    }
}
