using Meshgate.Core.Resources;

namespace Meshgate.ControlPlane.GatewayStatus;

/// <summary>
/// The store revision each object's current configuration was stored at. <c>metadata.resourceVersion</c> moves with
/// every write, status writes included, so it cannot say when a proxy runs "this" configuration: a Gateway marked
/// Programmed would become un-programmed by that very write. The configuration is the object's uid and generation
/// (status writes never bump it); the revision it is first seen at is kept until either changes. After a control-plane
/// restart the first sighting may be a later revision, which only asks proxies to be a little newer.
/// </summary>
internal sealed class ConfigurationRevisions
{
    private readonly Dictionary<ObjectKey, (string? Uid, long Generation, long Revision)> _seen = [];

    public long Of(Resource resource)
    {
        var uid = resource.Metadata["uid"]?.GetValue<string>();
        var generation = resource.Metadata["generation"] is System.Text.Json.Nodes.JsonValue value && value.TryGetValue<long>(out var g) ? g : 1;
        if (_seen.TryGetValue(resource.Key, out var seen) && seen.Uid == uid && seen.Generation == generation)
        {
            return seen.Revision;
        }

        _seen[resource.Key] = (uid, generation, resource.ResourceVersion);
        return resource.ResourceVersion;
    }

    /// <summary>Forgets objects that are gone.</summary>
    public void Prune(ResourceSet current)
    {
        List<ObjectKey>? gone = null;
        foreach (var key in _seen.Keys)
        {
            if (current.Get(key) is null)
            {
                (gone ??= []).Add(key);
            }
        }

        foreach (var key in gone ?? [])
        {
            _seen.Remove(key);
        }
    }
}
