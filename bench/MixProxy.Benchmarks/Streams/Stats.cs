using System.Globalization;

namespace MixProxy.Benchmarks.Streams;

/// <summary>Percentiles and the "median [min–max]" cell format the stream tables use for repeated runs.</summary>
internal static class Stats
{
    /// <summary>Nearest-rank percentile (p in 0..1) of unsorted values; NaN when empty.</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    /// <summary>One number when there was one repetition, else the median with the range over repetitions.</summary>
    public static string Spread(IReadOnlyCollection<double> reps, string format = "0.00")
    {
        var median = Percentile(reps, 0.5);
        if (reps.Count == 1)
        {
            return median.ToString(format, CultureInfo.InvariantCulture);
        }

        return string.Create(CultureInfo.InvariantCulture, $"{median.ToString(format, CultureInfo.InvariantCulture)} [{reps.Min().ToString(format, CultureInfo.InvariantCulture)}–{reps.Max().ToString(format, CultureInfo.InvariantCulture)}]");
    }

    public static string F(double value, string format = "0.00") => value.ToString(format, CultureInfo.InvariantCulture);
}
