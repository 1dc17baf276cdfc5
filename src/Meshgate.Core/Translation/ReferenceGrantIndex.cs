using Meshgate.Core.Resources;
using Meshgate.Core.Resources.GatewayApi;

namespace Meshgate.Core.Translation;

/// <summary>
/// Gateway API ReferenceGrants (<c>gateway.networking.k8s.io/v1beta1</c>) by the namespace they live in: a route may
/// refer to an object in another namespace only when a grant in that namespace names the route's group, kind and
/// namespace (<c>from</c>) and the object's group and kind, and its name when the grant gives one (<c>to</c>). Translation
/// and the status controller (ResolvedRefs, certificate refs) both ask this one index, so they agree; Istio indexes them
/// the same way (<c>convertReferencePolicies</c>, <c>BackendAllowed</c>).
/// </summary>
internal sealed class ReferenceGrantIndex
{
    private readonly Dictionary<string, List<ReferenceGrantSpec>> _byNamespace = new(StringComparer.Ordinal);

    public ReferenceGrantIndex(Registry registry)
        : this(registry.Of(ResourceTypes.ReferenceGrant))
    {
    }

    /// <param name="grants">The ReferenceGrant objects.</param>
    public ReferenceGrantIndex(IReadOnlyList<Resource> grants)
    {
        foreach (var grant in grants)
        {
            if (ParsedSpecs.Spec<ReferenceGrantSpec>(grant) is not { } spec)
            {
                continue;
            }

            if (!_byNamespace.TryGetValue(grant.Namespace, out var list))
            {
                list = [];
                _byNamespace[grant.Namespace] = list;
            }

            list.Add(spec);
        }
    }

    /// <summary>Whether a grant in <paramref name="toNamespace"/> lets the <c>from</c> object refer to the <c>to</c> object.</summary>
    public bool Allows(string fromGroup, string fromKind, string fromNamespace, string toGroup, string toKind, string toNamespace, string toName)
    {
        if (!_byNamespace.TryGetValue(toNamespace, out var grants))
        {
            return false;
        }

        foreach (var grant in grants)
        {
            if (FromMatches(grant.From, fromGroup, fromKind, fromNamespace) && ToMatches(grant.To, toGroup, toKind, toName))
            {
                return true;
            }
        }

        return false;
    }

    private static bool FromMatches(List<ReferenceGrantFrom>? from, string group, string kind, string ns)
    {
        foreach (var f in from ?? [])
        {
            if (Group(f.Group) == Group(group) && f.Kind == kind && f.Namespace == ns)
            {
                return true;
            }
        }

        return false;
    }

    private static bool ToMatches(List<ReferenceGrantTo>? to, string group, string kind, string name)
    {
        foreach (var t in to ?? [])
        {
            // An absent (or empty) name grants every object of the kind (ReferenceGrantTo.name).
            if (Group(t.Group) == Group(group) && t.Kind == kind && (string.IsNullOrEmpty(t.Name) || t.Name == name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The core group is spelled <c>""</c> (and sometimes <c>core</c>).</summary>
    public static string Group(string? group) => group is null or "core" ? "" : group;
}
