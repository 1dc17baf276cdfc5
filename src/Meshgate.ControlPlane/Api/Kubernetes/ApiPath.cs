using Meshgate.Core.Resources;

namespace Meshgate.ControlPlane.Api.Kubernetes;

/// <summary>
/// A request path of the Kubernetes API, read: <c>/apis/GROUP/VERSION[/namespaces/NS]/PLURAL[/NAME[/SUBRESOURCE]]</c>
/// (<c>/api/VERSION/...</c> for the core group), or a discovery document (<c>/apis/GROUP</c>, <c>/apis/GROUP/VERSION</c>).
/// </summary>
public sealed record ApiPath(string Group, string? Version, ResourceType? Type, string? Namespace, string? Name, string? Subresource)
{
    /// <summary>The object's key (<see cref="Name"/> set).</summary>
    public ObjectKey Key => new(Type!, Type!.Namespaced ? Namespace ?? "" : "", Name!);

    public bool IsCollection => Type is not null && Name is null;

    /// <summary>Reads <paramref name="path"/> (after <c>/api/</c> when <paramref name="core"/>, else after <c>/apis/</c>).</summary>
    /// <exception cref="ApiError">NotFound: the path names nothing served; BadRequest: a cluster-scoped kind under a namespace.</exception>
    public static ApiPath Parse(bool core, string? path)
    {
        var segments = (path ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var i = 0;
        var group = "";
        if (!core)
        {
            if (segments.Length == 0)
            {
                throw ApiError.NoResource("missing API group");
            }

            group = segments[i++];
        }

        if (!core && !ResourceTypes.InGroup(group).Any())
        {
            throw ApiError.NoResource($"no API group \"{group}\"");
        }

        if (i >= segments.Length)
        {
            return new ApiPath(group, null, null, null, null, null);
        }

        var version = segments[i++];
        if (!ResourceTypes.InGroup(group).Any(t => t.Versions.Contains(version)))
        {
            throw ApiError.NoResource($"no version \"{version}\" of {(group.Length == 0 ? "the core group" : group)}");
        }

        var rest = segments[i..];
        if (rest.Length == 0)
        {
            return new ApiPath(group, version, null, null, null, null);
        }

        ResourceType? Find(string plural) => ResourceTypes.All.FirstOrDefault(t => t.Group == group && t.Plural == plural && t.Versions.Contains(version));

        string? ns = null;
        if (rest.Length >= 3 && rest[0] == "namespaces")
        {
            var inside = Find(rest[2]);
            if (inside is { Namespaced: false })
            {
                throw ApiError.BadRequest($"{inside.Resource} is not namespaced");
            }

            // In the core group, namespaces/NAME/SUBRESOURCE (status, finalize) is a namespace's own subresource.
            if (inside is not null || rest.Length > 3 || group.Length > 0)
            {
                ns = rest[1];
                rest = rest[2..];
            }
        }

        if (rest.Length > 3)
        {
            throw ApiError.NoResource(string.Join('/', rest));
        }

        var type = Find(rest[0]) ?? throw ApiError.NoResource($"{rest[0]}{(group.Length == 0 ? "" : "." + group)}/{version}");
        return new ApiPath(group, version, type, ns, rest.Length > 1 ? rest[1] : null, rest.Length > 2 ? rest[2] : null);
    }
}
