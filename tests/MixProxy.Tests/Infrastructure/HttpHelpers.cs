using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace MixProxy.Tests.Infrastructure;

/// <summary>Plain HTTP calls for the cases an SDK hides (exact status codes, headers, error bodies).</summary>
public static class HttpHelpers
{
    public static async Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)> PostJsonAsync(
        this HttpClient client, string path, string json, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        JsonNode? body = null;
        if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true)
        {
            body = JsonNode.Parse(text);
        }

        return (response.StatusCode, body, response);
    }

    public static async Task<(HttpStatusCode Status, JsonNode? Body)> GetJsonAsync(this HttpClient client, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null);
    }

    /// <summary>Asserts an OpenAI error object: <c>{"error":{"message","type","param","code"}}</c>.</summary>
    public static void AssertOpenAIError(JsonNode? body, string? code = null)
    {
        var error = body?["error"];
        Assert.NotNull(error);
        Assert.False(string.IsNullOrEmpty(error["message"]?.GetValue<string>()));
        Assert.NotNull(error["type"]);
        if (code is not null)
        {
            Assert.Equal(code, error["code"]?.GetValue<string>());
        }
    }

    /// <summary>Asserts a Google error object: <c>{"error":{"code","message","status"}}</c>.</summary>
    public static void AssertGoogleError(JsonNode? body, int code, string status)
    {
        var error = body?["error"];
        Assert.NotNull(error);
        Assert.Equal(code, error["code"]!.GetValue<int>());
        Assert.Equal(status, error["status"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(error["message"]?.GetValue<string>()));
    }

    public static MediaTypeHeaderValue? ContentType(this HttpResponseMessage response) => response.Content.Headers.ContentType;
}
