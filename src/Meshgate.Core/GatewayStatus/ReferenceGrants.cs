using Meshgate.Core.Resources;
using Meshgate.Core.Resources.GatewayApi;
using Meshgate.Core.Translation;

namespace Meshgate.Core.GatewayStatus;

/// <summary>
/// Gateway API ReferenceGrant: a reference from one namespace to an object in another is allowed only when a grant in
/// the target namespace names the referring kind and namespace (<c>from</c>) and the target kind, and name if given
/// (<c>to</c>). Indexed once per computation by the target namespace.
/// </summary>
internal sealed class ReferenceGrants
{
    private readonly Dictionary<string, List<ReferenceGrantSpec>> _byNamespace = new(StringComparer.Ordinal);

    public ReferenceGrants(ResourceSet resources)
    {
        foreach (var grant in resources.List(ResourceTypes.ReferenceGrant))
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
            if (Group(t.Group) == Group(group) && t.Kind == kind && (string.IsNullOrEmpty(t.Name) || t.Name == name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The core group is spelled "" (and sometimes "core").</summary>
    private static string Group(string? group) => group is null or "core" ? "" : group;
}
