using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;

namespace MixProxy.Benchmarks.Streams;

/// <summary>Memory of another process on this machine: RSS from /proc, and the .NET GC heap from the gateway's own /metrics.</summary>
internal static class ProcessMemory
{
    /// <summary>Resident set size in KB (VmRSS), or NaN when the process is gone or was not given.</summary>
    public static double RssKb(int pid)
    {
        if (pid <= 0)
        {
            return double.NaN;
        }

        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return double.NaN;
    }

    // EventPipe keyword that makes the runtime run a full blocking collection (what dotnet-gcdump uses).
    private const long GcHeapCollectKeyword = 0x800000;

    /// <summary>
    /// The live GC heap of a .NET process in KB: asks it for a full blocking collection through its diagnostics port,
    /// waits until its gen2 count (from its Prometheus <paramref name="metrics"/>) moves, then reads the heap size
    /// after that collection minus the fragmentation (free space between objects) the runtime reports for it, summed
    /// over generations. Without the forced collection the runtime metric would be the heap as of whenever the GC
    /// last ran, garbage included; without subtracting fragmentation it would count free space between objects
    /// as if something held it. NaN when there is no process or the collection does not show within 5 s.
    /// </summary>
    public static async Task<double> LiveHeapKbAsync(int pid, HttpClient scrape, Uri? metrics, CancellationToken cancellationToken)
    {
        if (pid <= 0 || metrics is null)
        {
            return double.NaN;
        }

        var before = Sum(await scrape.GetStringAsync(metrics, cancellationToken).ConfigureAwait(false), "dotnet_gc_collections_total", "\"gen2\"");
        var provider = new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, GcHeapCollectKeyword);
        using var session = await new DiagnosticsClient(pid).StartEventPipeSessionAsync([provider], requestRundown: false, circularBufferMB: 16, cancellationToken).ConfigureAwait(false);
        var drain = session.EventStream.CopyToAsync(Stream.Null, cancellationToken);
        try
        {
            for (var i = 0; i < 50; i++)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
                var text = await scrape.GetStringAsync(metrics, cancellationToken).ConfigureAwait(false);
                if (Sum(text, "dotnet_gc_collections_total", "\"gen2\"") > before)
                {
                    return (Sum(text, "dotnet_gc_last_collection_heap_size_bytes") - Sum(text, "dotnet_gc_last_collection_heap_fragmentation_size_bytes")) / 1024;
                }
            }

            return double.NaN;
        }
        finally
        {
            await session.StopAsync(cancellationToken).ConfigureAwait(false);
            await drain.ConfigureAwait(false);
        }
    }

    /// <summary>The sum of every sample of a metric family in Prometheus text (value after the labels, before any timestamp).</summary>
    private static double Sum(string text, string family, string? labelValue = null)
    {
        var total = double.NaN;
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(family, StringComparison.Ordinal) || (labelValue is not null && !line.Contains(labelValue, StringComparison.Ordinal)))
            {
                continue;
            }

            var afterLabels = line.LastIndexOf('}') is var brace and >= 0 ? line[(brace + 1)..] : line[line.IndexOf(' ', StringComparison.Ordinal)..];
            var value = double.Parse(afterLabels.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
            total = double.IsNaN(total) ? value : total + value;
        }

        return total;
    }
}
