using System.Globalization;

namespace MixProxy.Benchmarks.Streams;

/// <summary>
/// CPU used during a run, from /proc: by the processes of the benchmark (this client, the gateway, the simulator) and
/// by everything else on the machine. The machine is shared, so a row measured while something else ran says so.
/// </summary>
internal sealed class CpuAccount
{
    private readonly int[] _pids;
    private readonly long _machineStart;
    private readonly long _oursStart;
    private readonly long _ticksStart;

    public CpuAccount(params int[] pids)
    {
        _pids = [Environment.ProcessId, .. pids.Where(p => p > 0)];
        (_machineStart, _ticksStart) = Machine();
        _oursStart = Ours();
    }

    /// <summary>Percent of one core used, since construction, by everything but the benchmark's processes.</summary>
    public double OtherPercent()
    {
        var (busy, ticks) = Machine();
        var ours = Ours() - _oursStart;
        var elapsed = ticks - _ticksStart;
        return elapsed <= 0 ? double.NaN : Math.Max(0, busy - _machineStart - ours) * 100.0 * Environment.ProcessorCount / elapsed;
    }

    /// <summary>User + system CPU time of one process so far, in ms (NaN when it is gone).</summary>
    public static double ProcessMs(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 1000.0 / ClockTicksPerSecond;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    // USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK).
    private const int ClockTicksPerSecond = 100;

    /// <summary>Busy and total jiffies of all CPUs (first line of /proc/stat: user nice system idle iowait irq softirq steal).</summary>
    private static (long Busy, long Total) Machine()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var total = fields.Sum();
        return (total - fields[3] - fields[4], total);
    }

    /// <summary>User + system jiffies of the benchmark's processes (fields 14 and 15 of /proc/PID/stat).</summary>
    private long Ours()
    {
        long sum = 0;
        foreach (var pid in _pids)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                sum += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
            }
        }

        return sum;
    }
}
