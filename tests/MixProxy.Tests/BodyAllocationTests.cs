using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>Tests that measure the whole process (its allocations), so they run alone: other tests' work would count.</summary>
[CollectionDefinition(nameof(MeasuredAlone), DisableParallelization = true)]
public sealed class MeasuredAlone;

/// <summary>A client's declared body size costs nothing until the bytes arrive.</summary>
[Collection(nameof(MeasuredAlone))]
public sealed class BodyAllocationTests
{
    [Fact]
    public async Task DeclaredContentLength_DoesNotPreallocateTheBody()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        var before = GC.GetTotalAllocatedBytes(precise: true);

        // A raw client promises a 400 MB body, sends 2 bytes and waits: only the bytes that came may cost memory.
        using (var socket = new System.Net.Sockets.TcpClient())
        {
            await socket.ConnectAsync(gateway.BaseAddress.Host, gateway.BaseAddress.Port, TestContext.Current.CancellationToken);
            var stream = socket.GetStream();
            var head = $"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {GatewayFixture.ClientKey}\r\nContent-Type: application/json\r\nContent-Length: 400000000\r\n\r\n{{}}";
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head), TestContext.Current.CancellationToken);
            await Task.Delay(500, TestContext.Current.CancellationToken);
        }

        // Allocation is counted process-wide (the gateway runs in this process): far below the declared size.
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 100_000_000, "the gateway allocated the declared 400 MB up front");
    }
}
