using Meshgate.Core.Resources;
using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Analysis;

/// <summary>A VirtualService with its gateway references resolved as Istio resolves them and its routes flattened.</summary>
internal sealed class VirtualServiceView
{
    public const string Mesh = "mesh";

    public VirtualServiceView(Resource resource, VirtualServiceSpec spec)
    {
        Resource = resource;
        Spec = spec;
        Hosts = spec.Hosts ?? [];
        Gateways = spec.Gateways is { Count: > 0 } gateways ? gateways.Select(Normalize).ToList() : [Mesh];
        Destinations = Flatten();
    }

    public Resource Resource { get; }

    public VirtualServiceSpec Spec { get; }

    public string Namespace => Resource.Namespace;

    public IReadOnlyList<string> Hosts { get; }

    /// <summary><c>spec.gateways</c>, normalized; <c>[mesh]</c> when omitted.</summary>
    public IReadOnlyList<string> Gateways { get; }

    public IReadOnlyList<RouteDestination> Destinations { get; }

    public bool BoundToMesh => Gateways.Contains(Mesh);

    /// <summary>
    /// Istio's reference forms: <c>mesh</c>; <c>namespace/name</c>; a bare <c>name</c> is in the VirtualService's namespace.
    /// </summary>
    public string Normalize(string reference) =>
        reference == Mesh ? Mesh : reference.Contains('/') ? reference : $"{Namespace}/{reference}";

    private List<RouteDestination> Flatten()
    {
        var result = new List<RouteDestination>();
        for (var i = 0; i < (Spec.Http?.Count ?? 0); i++)
        {
            var route = Spec.Http![i];
            var (appliesTo, ports, portField) = Scope(route.Match?.Select(m => (m.Gateways, m.Port)).ToList(), $"spec.http[{i}]");
            for (var j = 0; j < (route.Route?.Count ?? 0); j++)
            {
                if (route.Route![j].Destination is { } destination)
                {
                    result.Add(new RouteDestination(this, RouteKind.Http, $"spec.http[{i}].route[{j}].destination", destination, Hosts, appliesTo, ports, portField));
                }
            }

            if (route.Mirror is { } mirror)
            {
                result.Add(new RouteDestination(this, RouteKind.Http, $"spec.http[{i}].mirror", mirror, Hosts, appliesTo, ports, portField));
            }

            for (var j = 0; j < (route.Mirrors?.Count ?? 0); j++)
            {
                if (route.Mirrors![j].Destination is { } destination)
                {
                    result.Add(new RouteDestination(this, RouteKind.Http, $"spec.http[{i}].mirrors[{j}].destination", destination, Hosts, appliesTo, ports, portField));
                }
            }
        }

        for (var i = 0; i < (Spec.Tls?.Count ?? 0); i++)
        {
            var route = Spec.Tls![i];
            var (appliesTo, ports, portField) = Scope(route.Match?.Select(m => (m.Gateways, m.Port)).ToList(), $"spec.tls[{i}]");
            var sni = route.Match?.SelectMany(m => m.SniHosts ?? []).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            var hosts = sni is { Count: > 0 } ? sni : Hosts;
            for (var j = 0; j < (route.Route?.Count ?? 0); j++)
            {
                if (route.Route![j].Destination is { } destination)
                {
                    result.Add(new RouteDestination(this, RouteKind.Tls, $"spec.tls[{i}].route[{j}].destination", destination, hosts, appliesTo, ports, portField));
                }
            }
        }

        for (var i = 0; i < (Spec.Tcp?.Count ?? 0); i++)
        {
            var route = Spec.Tcp![i];
            var (appliesTo, ports, portField) = Scope(route.Match?.Select(m => (m.Gateways, m.Port)).ToList(), $"spec.tcp[{i}]");
            for (var j = 0; j < (route.Route?.Count ?? 0); j++)
            {
                if (route.Route![j].Destination is { } destination)
                {
                    result.Add(new RouteDestination(this, RouteKind.Tcp, $"spec.tcp[{i}].route[{j}].destination", destination, Hosts, appliesTo, ports, portField));
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Where a route applies: a match without <c>gateways</c> applies wherever the VirtualService does; a match's
    /// gateways replace the VirtualService's for that match (Istio's HTTPMatchRequest.gateways). Ports likewise.
    /// </summary>
    private (IReadOnlyList<string> AppliesTo, IReadOnlyList<long> Ports, string? PortField) Scope(List<(List<string>? Gateways, long? Port)>? matches, string routeField)
    {
        if (matches is not { Count: > 0 })
        {
            return (Gateways, [], null);
        }

        var appliesTo = new List<string>();
        var ports = new List<long>();
        var anyPort = false;
        string? portField = null;
        for (var k = 0; k < matches.Count; k++)
        {
            var (gateways, port) = matches[k];
            appliesTo.AddRange(gateways is { Count: > 0 } ? gateways.Select(Normalize) : Gateways);
            if (port is { } p)
            {
                ports.Add(p);
                portField ??= $"{routeField}.match[{k}].port";
            }
            else
            {
                anyPort = true;
            }
        }

        return (appliesTo.Distinct(StringComparer.Ordinal).ToList(), anyPort ? [] : ports.Distinct().ToList(), anyPort ? null : portField);
    }
}
