using System.Reflection;
using System.Text.RegularExpressions;
using MixProxy.Tests.Infrastructure;
using MixProxy.Translation.Protocols;
using NetArchTest.Rules;

namespace MixProxy.Tests;

/// <summary>
/// The seams hold: the host composes and never knows a protocol (no protocol-specific type, no wire field, header,
/// query parameter or path of any protocol in its code), the protocol library knows no ASP.NET, and the gateway ships
/// no simulator. Adding a protocol is a folder in the library and a line in the registry; these tests fail when a
/// change puts protocol knowledge anywhere else.
/// </summary>
public sealed partial class ArchitectureTests
{
    private static readonly Assembly Host = typeof(GatewayHost).Assembly;
    private static readonly Assembly Library = typeof(ProtocolRegistry).Assembly;

    /// <summary>
    /// The library's per-protocol and per-pair namespaces: wherever a client API, an exchange or a protocol's
    /// vocabulary lives. Found by reflection, so a new protocol folder is covered without editing this test.
    /// </summary>
    private static string[] ProtocolNamespaces() => Library.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(ClientApi)) || t.IsSubclassOf(typeof(Exchange)) || t.Name.EndsWith("Vocabulary", StringComparison.Ordinal))
        .Select(t => t.Namespace!)
        .Distinct(StringComparer.Ordinal)
        .Order(StringComparer.Ordinal)
        .ToArray();

    [Fact]
    public void ProtocolNamespaces_AreFoundByReflection()
    {
        // Guards the test below against passing vacuously.
        Assert.Equal(
            [
                "MixProxy.Translation.AnthropicMessages", "MixProxy.Translation.AnthropicMessagesToGemini", "MixProxy.Translation.AnthropicMessagesToOpenAIChat",
                "MixProxy.Translation.Gemini", "MixProxy.Translation.GeminiToOpenAIChat", "MixProxy.Translation.OpenAIChat", "MixProxy.Translation.OpenAIChatToGemini",
                "MixProxy.Translation.OpenAIResponses", "MixProxy.Translation.OpenAIResponsesToGemini", "MixProxy.Translation.OpenAIResponsesToOpenAIChat",
            ],
            ProtocolNamespaces());
    }

    [Fact]
    public void Host_RefersToNoProtocolSpecificType()
    {
        var result = Types.InAssembly(Host).ShouldNot().HaveDependencyOnAny(ProtocolNamespaces()).GetResult();

        Assert.True(result.IsSuccessful, "Host types that use a protocol-specific type (ask the ProtocolRegistry instead): " + string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Fact]
    public void HostSource_NamesNoProtocolSpecificTypeOrNamespace()
    {
        // The compiler inlines constants, so a protocol's vocabulary constant leaves no trace in the assembly: the
        // source is checked too.
        var namespaces = ProtocolNamespaces();
        var names = Library.GetTypes().Where(t => t.IsPublic && namespaces.Contains(t.Namespace)).Select(t => t.Name).Concat(namespaces).ToList();
        var offences = (
            from file in HostSourceFiles()
            from name in names
            where Regex.IsMatch(File.ReadAllText(file), $@"\b{Regex.Escape(name)}\b")
            select $"{Path.GetFileName(file)}: {name}").ToList();

        Assert.True(offences.Count == 0, "Host source names protocol-specific code: " + string.Join(", ", offences));
    }

    [Fact]
    public void ProtocolLibrary_DependsOnNoAspNet()
    {
        var aspNet = Library.GetReferencedAssemblies().Where(a => a.Name!.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)).ToList();

        Assert.Empty(aspNet);
    }

    [Fact]
    public void HostSource_SpellsNoWireFieldHeaderQueryOrPath()
    {
        var offences = new List<string>();
        var vocabulary = WireVocabulary();
        foreach (var file in HostSourceFiles())
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                var where = $"{Path.GetRelativePath(TestConfig.RepoFile("src"), file)}:{i + 1}";
                if (lines[i].TrimStart().StartsWith("//", StringComparison.Ordinal))
                {
                    continue; // comments may name what the code leaves to the library
                }

                // JSON is the library's business: the host never names a property it reads or writes.
                if (JsonAccessWithLiteral().IsMatch(lines[i]))
                {
                    offences.Add($"{where}: JSON property named in the host: {lines[i].Trim()}");
                }

                // Headers, query parameters and route values are reached through the library's vocabulary.
                if (RequestPartWithLiteral().IsMatch(lines[i]))
                {
                    offences.Add($"{where}: request part named in the host: {lines[i].Trim()}");
                }

                foreach (Match literal in StringLiteral().Matches(lines[i]))
                {
                    if (vocabulary.Contains(literal.Groups[1].Value))
                    {
                        offences.Add($"{where}: wire vocabulary \"{literal.Groups[1].Value}\" spelled in the host");
                    }
                }
            }
        }

        Assert.True(offences.Count == 0, string.Join(Environment.NewLine, offences));
    }

    /// <summary>
    /// Every distinctive wire name the protocol vocabularies define (paths, headers, media types, camelCase and
    /// snake_case fields, methods). Plain words such as <c>model</c> or <c>stream</c> are also the gateway's own label
    /// values; their use as wire names is caught by the JSON and request-part checks instead.
    /// </summary>
    private static HashSet<string> WireVocabulary()
    {
        var words = Library.GetTypes()
            .Where(t => t.Name.EndsWith("Vocabulary", StringComparison.Ordinal))
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral && f.FieldType == typeof(string)))
            .Select(f => (string)f.GetRawConstantValue()!)
            .Concat(ProtocolRegistry.Default.ClientCredentialSources.Select(source => source.Name))
            .Where(word => !PlainWord().IsMatch(word))
            .ToHashSet(StringComparer.Ordinal);
        Assert.Contains("x-goog-api-key", words);
        Assert.Contains("text/event-stream", words);
        Assert.Contains("/v1/chat/completions", words);
        return words;
    }

    [Fact]
    public void Gateway_ShipsNoSimulator()
    {
        Assert.DoesNotContain(Host.GetReferencedAssemblies(), a => a.Name == "MixProxy.Simulator");
        Assert.DoesNotContain("MixProxy.Simulator", File.ReadAllText(TestConfig.RepoFile("src/MixProxy/MixProxy.csproj")), StringComparison.Ordinal);
    }

    [Fact]
    public void RequestPath_ParsesTheBodyResolvesTheModelAndPicksTheExchange_InOnePlaceEach()
    {
        // One request: its client API parses it (ClientRequestReader, at most once with its body), the model map
        // resolves its model (ModelRoutingMiddleware) and the registry picks its exchange (ModelRoutingMiddleware),
        // which begins its call (ExchangeMiddleware). Only a later attempt picks again: a fallback model's exchange,
        // and a fresh call for each attempt (UpstreamRouter).
        Assert.Equal(["Routing/ClientRequestReader.cs"], HostFilesMatching(@"\.Api\.Parse\(|JsonDocument\.Parse"));
        Assert.Equal(["Endpoints/ModelCatalogEndpoints.cs", "Routing/ModelRoutingMiddleware.cs"], HostFilesMatching(@"Models\.Resolve\("));
        Assert.Equal(["Routing/ModelRoutingMiddleware.cs", "Upstreams/UpstreamRouter.cs"], HostFilesMatching(@"\.FindExchange\("));
        Assert.Equal(["Proxy/ExchangeMiddleware.cs", "Upstreams/UpstreamRouter.cs"], HostFilesMatching(@"\.Begin\("));
    }

    private static IEnumerable<string> HostSourceFiles() =>
        Directory.EnumerateFiles(TestConfig.RepoFile("src/MixProxy"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal));

    private static string[] HostFilesMatching(string pattern) =>
        HostSourceFiles()
            .Where(f => Regex.IsMatch(File.ReadAllText(f), pattern))
            .Select(f => Path.GetRelativePath(TestConfig.RepoFile("src/MixProxy"), f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToArray();

    [GeneratedRegex(@"(TryGetProperty|GetProperty|WritePropertyName|WriteString|WriteNumber|WriteBoolean|WriteStartObject|WriteStartArray|NameEquals|ValueEquals)\(\s*""")]
    private static partial Regex JsonAccessWithLiteral();

    [GeneratedRegex(@"(Query|RouteValues|Headers|Collection)\s*(\[\s*""|\.(TryGetValue|ContainsKey|Remove|Append)\(\s*"")")]
    private static partial Regex RequestPartWithLiteral();

    [GeneratedRegex(@"(?<!@)""((?:[^""\\]|\\.)*)""")]
    private static partial Regex StringLiteral();

    [GeneratedRegex("^[a-z]+$")]
    private static partial Regex PlainWord();
}
