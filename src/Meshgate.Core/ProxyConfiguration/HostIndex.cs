namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// The virtual host of each name and domain of a consistent route table. The table made from it by a delta that
/// replaces, adds or removes a few virtual hosts gets this index with a layer on top (the new virtual hosts, and the
/// ones removed), so a delta does not rebuild an index of 10,000 virtual hosts. Each layer holds positions in its own
/// table, which never changes; an entry is live unless a layer above removed its virtual host.
/// </summary>
internal sealed class HostIndex
{
    // Lookups walk the layers; a deep or large stack is rebuilt as one.
    private const int MaxDepth = 16;

    private readonly HostIndex? _below;
    private readonly RouteTable _table;
    private readonly Dictionary<string, int> _names;
    private readonly Dictionary<string, int> _domains;
    private readonly HashSet<VirtualHost>? _removed;
    private readonly int _depth;
    private readonly int _layered;

    /// <summary>A whole table's index: the position of each name and domain (case-insensitive), all unique.</summary>
    public HostIndex(RouteTable table, Dictionary<string, int> names, Dictionary<string, int> domains)
        : this(null, table, names, domains, null, 0, 0)
    {
    }

    private HostIndex(HostIndex? below, RouteTable table, Dictionary<string, int> names, Dictionary<string, int> domains, HashSet<VirtualHost>? removed, int depth, int layered)
    {
        _below = below;
        _table = table;
        _names = names;
        _domains = domains;
        _removed = removed;
        _depth = depth;
        _layered = layered;
    }

    /// <summary>The virtual host named <paramref name="name"/>, or null.</summary>
    public VirtualHost? Find(string name)
    {
        for (var level = this; level is not null; level = level._below)
        {
            if (level._names.TryGetValue(name, out var at) && level._table.VirtualHosts[at] is var host && !RemovedAbove(level, host))
            {
                return host;
            }
        }

        return null;
    }

    /// <summary>The virtual host with <paramref name="domain"/> (case-insensitive), or null.</summary>
    public VirtualHost? FindDomain(string domain)
    {
        for (var level = this; level is not null; level = level._below)
        {
            if (level._domains.TryGetValue(domain, out var at) && level._table.VirtualHosts[at] is var host && !RemovedAbove(level, host))
            {
                return host;
            }
        }

        return null;
    }

    /// <summary>
    /// The index of <paramref name="table"/>, made from this one's table by adding the virtual hosts of
    /// <paramref name="names"/> and <paramref name="domains"/> (positions in <paramref name="table"/>) and removing
    /// <paramref name="removed"/>.
    /// </summary>
    public HostIndex With(RouteTable table, Dictionary<string, int>? names, Dictionary<string, int>? domains, HashSet<VirtualHost>? removed)
    {
        var layered = _layered + (names?.Count ?? 0) + (domains?.Count ?? 0) + (removed?.Count ?? 0);
        return _depth + 1 < MaxDepth && layered <= Math.Max(256, table.VirtualHosts.Count / 8)
            ? new HostIndex(this, table, names ?? [], domains ?? new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase), removed, _depth + 1, layered)
            : Build(table);
    }

    /// <summary>The index of a table whose names and domains are known to be unique.</summary>
    private static HostIndex Build(RouteTable table)
    {
        var names = new Dictionary<string, int>(table.VirtualHosts.Count, StringComparer.Ordinal);
        var domains = new Dictionary<string, int>(table.VirtualHosts.Count, StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < table.VirtualHosts.Count; i++)
        {
            var host = table.VirtualHosts[i];
            _ = names.TryAdd(host.Name, i);
            for (var j = 0; j < host.Domains.Count; j++)
            {
                _ = domains.TryAdd(host.Domains[j], i);
            }
        }

        return new HostIndex(table, names, domains);
    }

    /// <summary>Whether a layer above <paramref name="level"/> removed <paramref name="host"/>.</summary>
    private bool RemovedAbove(HostIndex level, VirtualHost host)
    {
        for (var above = this; above != level; above = above._below!)
        {
            if (above._removed is { } removed && removed.Contains(host))
            {
                return true;
            }
        }

        return false;
    }
}
