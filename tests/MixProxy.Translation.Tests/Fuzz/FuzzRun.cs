using CsCheck;

namespace MixProxy.Translation.Tests.Fuzz;

/// <summary>
/// How every fuzz test runs: on one thread from a fixed seed, so a run is the same every time; <c>MIXPROXY_FUZZ_SEED</c>
/// (a CsCheck seed, as a failure prints it) starts from another, and <c>MIXPROXY_FUZZ_SCALE</c> multiplies the number
/// of cases. The seed goes to the test output either way; a failure names the seed that reproduces its case.
/// </summary>
internal static class FuzzRun
{
    /// <summary>The seed a run starts from unless <c>MIXPROXY_FUZZ_SEED</c> says otherwise.</summary>
    public static readonly string DefaultSeed = new PCG(15, 2026_12_02).ToString();

    public static string Seed => Environment.GetEnvironmentVariable("MIXPROXY_FUZZ_SEED") is { Length: > 0 } seed ? seed : DefaultSeed;

    private static long Scale => long.TryParse(Environment.GetEnvironmentVariable("MIXPROXY_FUZZ_SCALE"), out var scale) && scale > 0 ? scale : 1;

    /// <summary>Runs <paramref name="property"/> on <paramref name="cases"/> samples of <paramref name="gen"/>.</summary>
    public static void Check<T>(Gen<T> gen, Action<T> property, long cases, Func<T, string> print)
    {
        var seed = Seed;
        TestContext.Current.TestOutputHelper?.WriteLine($"fuzz seed {seed} (set MIXPROXY_FUZZ_SEED to vary it), {cases * Scale} cases");
        gen.Sample(property, writeLine: line => TestContext.Current.TestOutputHelper?.WriteLine(line), seed: seed, iter: cases * Scale, threads: 1, print: print);
    }
}
