using System.Runtime.CompilerServices;

using Meshgate.Core.Resources;
using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Translation;

/// <summary>A VirtualService with its hosts qualified and its gateway names resolved, once.</summary>
internal sealed class BoundVirtualService
{
    public required string Name { get; init; }

    public required string Namespace { get; init; }

    public required VirtualServiceSpec Spec { get; init; }

    /// <summary>Lower-case, short names qualified with the VirtualService's namespace.</summary>
    public required IReadOnlyList<string> Hosts { get; init; }

    /// <summary><c>mesh</c> or <c>namespace/name</c>; <c>[mesh]</c> when the VirtualService names none.</summary>
    public required IReadOnlyList<string> Gateways { get; init; }

    public required ExportTo ExportTo { get; init; }
}

/// <summary>
/// VirtualServices by the gateway they are bound to (<c>mesh</c> for sidecars) and, for <c>mesh</c>, by host: exact
/// hosts in one table, wildcard hosts in another, so finding the rules for a host is a few lookups.
/// </summary>
internal sealed class VirtualServiceIndex
{
    public const string Mesh = "mesh";

    private readonly Dictionary<string, List<BoundVirtualService>> _byGateway = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<BoundVirtualService>> _meshByHost = new(StringComparer.Ordinal);

    // A VirtualService bound (hosts qualified, gateways resolved) once per stored object: that depends on the object
    // alone, and unchanged objects are the same instances across revisions.
    private static readonly ConditionalWeakTable<Resource, BindResult> Bound = new();

    private VirtualServiceIndex()
    {
    }

    private sealed record BindResult(BoundVirtualService? Vs);

    public static VirtualServiceIndex Build(Registry resources)
    {
        var index = new VirtualServiceIndex();
        var all = new List<(Resource Resource, BoundVirtualService Vs)>();
        foreach (var resource in resources.Of(ResourceTypes.VirtualService))
        {
            if (Bound.GetValue(resource, static r => new BindResult(ParsedSpecs.Spec<VirtualServiceSpec>(r) is { } spec ? Bind(r, spec) : null)).Vs is { } bound)
            {
                all.Add((resource, bound));
            }
        }

        // Gateway API routes, lowered to the same shape (Istio's conversion.go).
        all.AddRange(GatewayApiLowering.VirtualServices(resources));

        // Istio orders VirtualServices by creation time (oldest wins a conflict).
        foreach (var (_, bound) in Registry.InCreationOrder(all))
        {
            index.UsesSourceLabels |= HasSourceLabels(bound.Spec);
            foreach (var gateway in bound.Gateways)
            {
                Add(index._byGateway, gateway, bound);
            }

            if (bound.Gateways.Contains(Mesh))
            {
                foreach (var host in bound.Hosts)
                {
                    Add(index._meshByHost, host, bound);
                }
            }
        }

        return index;
    }

    private static BoundVirtualService Bind(Resource resource, VirtualServiceSpec spec)
    {
        var hosts = new List<string>();
        foreach (var host in spec.Hosts ?? [])
        {
            hosts.Add(HostNames.Qualify(host, resource.Namespace));
        }

        var gateways = new List<string>();
        foreach (var gateway in spec.Gateways is { Count: > 0 } named ? named : [Mesh])
        {
            var key = GatewayKey(gateway, resource.Namespace);
            if (!gateways.Contains(key))
            {
                gateways.Add(key);
            }
        }

        return new BoundVirtualService
        {
            Name = resource.Name,
            Namespace = resource.Namespace,
            Spec = spec,
            Hosts = hosts,
            Gateways = gateways,
            ExportTo = ExportTo.From(spec.ExportTo, resource.Namespace),
        };
    }

    /// <summary>
    /// A gateway reference as Istio resolves it: <c>mesh</c>; <c>ns/name</c>; a bare name in the VirtualService's
    /// namespace; the legacy <c>name.ns[.svc.cluster.local]</c> form as <c>ns/name</c>.
    /// </summary>
    public static string GatewayKey(string gateway, string vsNamespace)
    {
        if (gateway == Mesh)
        {
            return Mesh;
        }

        var slash = gateway.IndexOf('/');
        if (slash >= 0)
        {
            var ns = gateway[..slash];
            return $"{(ns == "." ? vsNamespace : ns)}/{gateway[(slash + 1)..]}";
        }

        var parts = gateway.Split('.');
        return parts.Length >= 2 ? $"{parts[1]}/{parts[0]}" : $"{vsNamespace}/{gateway}";
    }

    /// <summary>True when some match of some VirtualService names <c>sourceLabels</c>: then a proxy's labels shape its routes.</summary>
    public bool UsesSourceLabels { get; private set; }

    public IReadOnlyList<BoundVirtualService> BoundTo(string gatewayKey) =>
        _byGateway.TryGetValue(gatewayKey, out var list) ? list : [];

    /// <summary>
    /// The mesh VirtualService for <paramref name="host"/> that <paramref name="clientNamespace"/> sees: one naming the
    /// host exactly first, else the most specific wildcard; the oldest wins (Istio allows one per host on sidecars).
    /// </summary>
    public BoundVirtualService? MeshRuleFor(string host, string clientNamespace)
    {
        if (First(host) is { } exact)
        {
            return exact;
        }

        foreach (var candidate in HostNames.WildcardCandidates(host))
        {
            if (First(candidate) is { } wildcard)
            {
                return wildcard;
            }
        }

        return null;

        BoundVirtualService? First(string key)
        {
            if (_meshByHost.TryGetValue(key, out var list))
            {
                foreach (var vs in list)
                {
                    if (vs.ExportTo.VisibleTo(clientNamespace))
                    {
                        return vs;
                    }
                }
            }

            return null;
        }
    }

    private static bool HasSourceLabels(VirtualServiceSpec spec)
    {
        foreach (var route in spec.Http ?? [])
        {
            foreach (var match in route.Match ?? [])
            {
                if (match?.SourceLabels is { Count: > 0 })
                {
                    return true;
                }
            }
        }

        foreach (var route in spec.Tls ?? [])
        {
            foreach (var match in route.Match ?? [])
            {
                if (match?.SourceLabels is { Count: > 0 })
                {
                    return true;
                }
            }
        }

        foreach (var route in spec.Tcp ?? [])
        {
            foreach (var match in route.Match ?? [])
            {
                if (match?.SourceLabels is { Count: > 0 })
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static void Add(Dictionary<string, List<BoundVirtualService>> map, string key, BoundVirtualService vs)
    {
        if (!map.TryGetValue(key, out var list))
        {
            list = [];
            map[key] = list;
        }

        list.Add(vs);
    }
}
