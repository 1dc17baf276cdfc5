using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

using k8s.Models;

namespace Meshgate.Core.Resources;

/// <summary>
/// The document shape of a custom resource (Istio's and Gateway API's kinds): the Kubernetes
/// envelope with a typed spec. Kubernetes' own kinds use KubernetesClient's models instead.
/// </summary>
public sealed record CustomResource<TSpec>
    where TSpec : class
{
    [JsonRequired]
    public string? ApiVersion { get; init; }
    [JsonRequired]
    public string? Kind { get; init; }
    [JsonRequired]
    public V1ObjectMeta? Metadata { get; init; }
    public TSpec? Spec { get; init; }
    /// <summary>Written by the control plane only; ignored on apply like a status subresource.</summary>
    public JsonObject? Status { get; init; }
}
