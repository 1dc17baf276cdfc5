using System.Net;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// /etc/hosts (hosts(5)): names looked up here first, as the system resolver does, before any DNS server.
/// Re-read when the file changes, so an edit is followed within <see cref="Ttl"/>.
/// </summary>
public sealed class HostsFile(string path)
{
    public const string DefaultPath = "/etc/hosts";

    /// <summary>
    /// A hosts file consulted before anything else (<c>meshgate demo</c> points the external host at its local
    /// stand-in this way); unset means none.
    /// </summary>
    public const string OverrideVariable = "MESHGATE_HOSTS_FILE";

    /// <summary>The override from <see cref="OverrideVariable"/>, or null.</summary>
    public static HostsFile? FromEnvironment() =>
        Environment.GetEnvironmentVariable(OverrideVariable) is { Length: > 0 } path ? new HostsFile(path) : null;

    /// <summary>How long an answer from the file is reused before the file is checked again.</summary>
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(5);

    private Parsed _parsed = Parsed.Empty;

    public string Path => path;

    /// <summary>The file's addresses for <paramref name="name"/> (all lines that list it), or false when it has none.</summary>
    public bool TryGet(string name, out IPAddress[] addresses)
    {
        var parsed = Current();
        return parsed.Names.TryGetValue(name.TrimEnd('.'), out addresses!);
    }

    private Parsed Current()
    {
        var parsed = Volatile.Read(ref _parsed);
        var info = new FileInfo(path);
        var stamp = info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1L);
        if (stamp == parsed.Stamp)
        {
            return parsed;
        }

        string text;
        try
        {
            text = info.Exists ? File.ReadAllText(path) : "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return parsed; // keep what was read before
        }

        var next = new Parsed(stamp, Parse(text));
        Volatile.Write(ref _parsed, next);
        return next;
    }

    /// <summary>hosts(5): an address, then its names; '#' starts a comment; malformed lines are skipped.</summary>
    public static Dictionary<string, IPAddress[]> Parse(string text)
    {
        var names = new Dictionary<string, List<IPAddress>>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw;
            var comment = line.IndexOf('#', StringComparison.Ordinal);
            if (comment >= 0)
            {
                line = line[..comment];
            }

            var fields = line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !IPAddress.TryParse(fields[0], out var address))
            {
                continue;
            }

            foreach (var name in fields.Skip(1))
            {
                var key = name.TrimEnd('.');
                if (!names.TryGetValue(key, out var list))
                {
                    names[key] = list = [];
                }

                if (!list.Contains(address))
                {
                    list.Add(address);
                }
            }
        }

        return names.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.OrdinalIgnoreCase);
    }

    private sealed record Parsed((DateTime Written, long Length) Stamp, Dictionary<string, IPAddress[]> Names)
    {
        public static readonly Parsed Empty = new((DateTime.MaxValue, -2), new Dictionary<string, IPAddress[]>());
    }
}
