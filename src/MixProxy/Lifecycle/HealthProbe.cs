namespace MixProxy.Lifecycle;

/// <summary>
/// <c>mixproxy probe [URL]</c>: one GET, exit 0 on a 2xx. The container image's HEALTHCHECK runs it, because the
/// chiseled runtime image has no shell, curl or wget.
/// </summary>
internal static class HealthProbe
{
    public const string DefaultUrl = "http://127.0.0.1:8080/healthz/ready";

    public static async Task<int> RunAsync(string? url)
    {
        if (!Uri.TryCreate(url ?? DefaultUrl, UriKind.Absolute, out var target))
        {
            await Console.Error.WriteLineAsync($"usage: mixproxy probe [URL]   (default {DefaultUrl})").ConfigureAwait(false);
            return 2;
        }

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await client.GetAsync(target).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"{target}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}
