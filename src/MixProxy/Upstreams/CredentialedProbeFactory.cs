using System.Net;
using Microsoft.AspNetCore.Http.Extensions;
using MixProxy.Configuration;
using MixProxy.Translation.Protocols;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace MixProxy.Upstreams;

/// <summary>
/// YARP's active health probes, with the probed destination's own key where its protocol takes it: an LLM API answers
/// a keyless probe with 401, so without it every destination would look down. Configured per cluster with YARP's
/// <c>HealthCheck.Active</c> (<c>Path</c> such as <c>/v1beta/models</c> or <c>/v1/models</c>: listing models costs no
/// tokens). A destination whose probes fail is out of rotation until they succeed again.
/// </summary>
internal sealed class CredentialedProbeFactory(GatewayConfigStore store) : IProbingRequestFactory
{
    public HttpRequestMessage CreateRequest(ClusterModel cluster, DestinationModel destination)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(destination);
        var probed = destination.Config;
        var active = cluster.Config.HealthCheck?.Active;
        UriHelper.FromAbsolute(string.IsNullOrEmpty(probed.Health) ? probed.Address : probed.Health, out var scheme, out var host, out var pathBase, out _, out _);
        var query = QueryString.FromUriComponent(active?.Query ?? string.Empty);
        var credential = Credential(cluster.Config.ClusterId, probed);
        if (credential is { Source: { Location: CredentialLocation.Query } source, Secret: { } secret })
        {
            query = query.Add(source.Name, secret);
        }

        var request = new HttpRequestMessage(HttpMethod.Get, UriHelper.BuildAbsolute(scheme, host, pathBase, active?.Path ?? default(PathString), query))
        {
            Version = cluster.Config.HttpRequest?.Version ?? HttpVersion.Version20,
            VersionPolicy = cluster.Config.HttpRequest?.VersionPolicy ?? HttpVersionPolicy.RequestVersionOrLower,
        };

        if (!string.IsNullOrEmpty(probed.Host))
        {
            request.Headers.Host = probed.Host;
        }

        request.Headers.UserAgent.ParseAdd("MixProxy-HealthProbe/1");
        if (credential is { Source: { Location: CredentialLocation.Header } header, Secret: { } value })
        {
            request.Headers.TryAddWithoutValidation(header.Name, header.Format(value));
        }

        return request;
    }

    /// <summary>
    /// The destination's credential in the generation in force: YARP's model has no destination id, so the destination
    /// is the one of the cluster whose config is this one (two destinations with one address differ by their key).
    /// </summary>
    private UpstreamCredential? Credential(string clusterId, Yarp.ReverseProxy.Configuration.DestinationConfig probed)
    {
        var config = store.Current;
        var yarpCluster = config.Clusters.FirstOrDefault(c => c.ClusterId == clusterId);
        var id = yarpCluster?.Destinations?.FirstOrDefault(d => d.Value == probed).Key;
        return id is null ? null : config.Upstreams.GetValueOrDefault(clusterId)?.Find(id)?.Credential;
    }
}
