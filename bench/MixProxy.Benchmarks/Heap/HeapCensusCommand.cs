using System.Diagnostics.Tracing;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Runtime;
using MixProxy.Benchmarks.Streams;

namespace MixProxy.Benchmarks.Heap;

/// <summary>
/// What exactly a gateway process holds per open stream, object type by object type (bench/heap.sh):
/// <code>
/// heap dump --pid P --out FILE                         full blocking GC, then a heap dump of the process
/// heap diff --before A --after B --per N [--top 25]    objects reachable in B minus A, divided by N, as a table
/// </code>
/// The GC-heap metric of the slow-streams run says how much; this says what. Only objects reachable from the GC
/// roots count (a dump also holds garbage allocated after the forced collection), so the total is the live set.
/// </summary>
internal static class HeapCensusCommand
{
    // EventPipe keyword that makes the runtime run a full blocking collection (what dotnet-gcdump uses).
    private const long GcHeapCollectKeyword = 0x800000;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = new StreamBenchArguments(args.Skip(2).ToArray());
        switch (args.ElementAtOrDefault(1))
        {
            case "dump":
                await DumpAsync(options.Int("pid", 0), Path.GetFullPath(options.String("out"))).ConfigureAwait(false);
                return 0;
            case "diff":
                Diff(options.String("before"), options.String("after"), options.Int("per", 1), options.Int("top", 25));
                return 0;
            default:
                await Console.Error.WriteLineAsync("usage: heap dump --pid P --out FILE | heap diff --before A --after B --per N [--top 25]").ConfigureAwait(false);
                return 2;
        }
    }

    private static async Task DumpAsync(int pid, string path)
    {
        var client = new DiagnosticsClient(pid);
        var provider = new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, GcHeapCollectKeyword);
        using (var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        using (var session = await client.StartEventPipeSessionAsync([provider], requestRundown: false, circularBufferMB: 16, cancel.Token).ConfigureAwait(false))
        {
            // The collection runs when the session starts; two seconds is ample for a heap of a few hundred MB.
            var drain = session.EventStream.CopyToAsync(Stream.Null, cancel.Token);
            await Task.Delay(TimeSpan.FromSeconds(2), cancel.Token).ConfigureAwait(false);
            await session.StopAsync(cancel.Token).ConfigureAwait(false);
            await drain.ConfigureAwait(false);
        }

        await client.WriteDumpAsync(DumpType.WithHeap, path, logDumpGeneration: false, CancellationToken.None).ConfigureAwait(false);
    }

    private static void Diff(string before, string after, int per, int top)
    {
        var a = Census(before);
        var b = Census(after);
        var rows = a.Keys.Union(b.Keys)
            .Select(type =>
            {
                a.TryGetValue(type, out var x);
                b.TryGetValue(type, out var y);
                return (Type: type, Count: (double)(y.Count - x.Count) / per, Bytes: (double)(y.Bytes - x.Bytes) / per);
            })
            .OrderByDescending(r => r.Bytes)
            .ToList();
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"| reachable objects, per unit of {per} | bytes | objects |"));
        Console.WriteLine("| --- | ---: | ---: |");
        Console.WriteLine(string.Create(inv, $"| **total** | **{rows.Sum(r => r.Bytes):0}** | {rows.Sum(r => r.Count):0.0} |"));
        foreach (var row in rows.Take(top))
        {
            Console.WriteLine(string.Create(inv, $"| `{row.Type.Replace("|", "\\|", StringComparison.Ordinal)}` | {row.Bytes:0} | {row.Count:0.00} |"));
        }

        var rest = rows.Skip(top).ToList();
        Console.WriteLine(string.Create(inv, $"| {rest.Count} other types | {rest.Sum(r => r.Bytes):0} | {rest.Sum(r => r.Count):0.0} |"));
    }

    /// <summary>Count and bytes per type of every object reachable from the roots; arrays by exact length and holder type.</summary>
    private static Dictionary<string, (long Count, long Bytes)> Census(string dump)
    {
        using var target = DataTarget.LoadDump(dump);
        // The dump does not carry a runtime version ClrMD can match to a DAC by itself; the process ran on the same
        // runtime as this tool (same machine, same dotnet), so its DAC is the right one.
        var dac = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), OperatingSystem.IsWindows() ? "mscordaccore.dll" : "libmscordaccore.so");
        using var runtime = target.ClrVersions[0].CreateRuntime(dac, ignoreMismatch: true);
        var heap = runtime.Heap;
        var seen = new HashSet<ulong>();
        var holder = new Dictionary<ulong, string>();
        var pending = new Stack<ulong>();
        foreach (var root in heap.EnumerateRoots())
        {
            if (root.Object.Address != 0 && seen.Add(root.Object.Address))
            {
                pending.Push(root.Object.Address);
            }
        }

        var census = new Dictionary<string, (long Count, long Bytes)>();
        while (pending.Count > 0)
        {
            var address = pending.Pop();
            var obj = heap.GetObject(address);
            if (!obj.IsValid || obj.Type is null)
            {
                continue;
            }

            var name = obj.Type.Name ?? "?";
            if (obj.Type.IsArray)
            {
                // A buffer is only explained by who holds it: "byte[4096] in HttpConnection".
                name = string.Create(CultureInfo.InvariantCulture, $"{name.Replace("[]", string.Empty, StringComparison.Ordinal)}[{obj.AsArray().Length}] in {holder.GetValueOrDefault(address, "a root")}");
            }

            census.TryGetValue(name, out var entry);
            census[name] = (entry.Count + 1, entry.Bytes + (long)obj.Size);
            foreach (var reference in obj.EnumerateReferenceAddresses(carefully: false, considerDependantHandles: true))
            {
                if (reference != 0 && seen.Add(reference))
                {
                    pending.Push(reference);
                    holder[reference] = ShortName(obj.Type.Name);
                }
            }
        }

        return census;
    }

    // "System.Runtime.CompilerServices.AsyncTaskMethodBuilder<…>+AsyncStateMachineBox<X+<M>d__1>" is too long for a table cell.
    private static string ShortName(string? type) =>
        type is null ? "?" : type.Length <= 90 ? type : string.Concat(type.AsSpan(0, 87), "...");
}
