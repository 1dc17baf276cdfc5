using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// Reads a snapshot the control plane wrote, strictly and fast: a hand-written walk over <see cref="Utf8JsonReader"/>
/// that accepts what <see cref="ProxyConfigJson.Strict"/> accepts and builds the same <see cref="ProxyConfig"/>, but
/// allocates only the final objects (each list is gathered in a pooled buffer and copied once into an exact-size
/// array) and runs as ahead-of-time compiled code, so a proxy that has just started reads a 10,000-service snapshot
/// without boxing every value or waiting for the JIT. Exact camelCase names; unknown, repeated or
/// <c>[JsonIgnore]</c>d fields, comments and trailing commas refused; numbers only as JSON numbers in range; enums
/// only by their <c>[JsonStringEnumMemberName]</c> names; required fields and fields with a default of their own
/// present. Anything else returns false and the caller reads the input the slow way to say what is wrong.
/// </summary>
/// <remarks>
/// Two places where this is stricter than <see cref="ProxyConfigJson.Strict"/>, and agrees with the schema check:
/// System.Text.Json's enum converter also takes a comma-separated list of names (<c>"STATIC, EDS"</c>, read as the
/// bitwise OR of their values) and names padded with spaces; and it skips a field named like a
/// <c>[JsonIgnore]</c>d property (a listener's <c>endpoint</c>). Neither is something the control plane writes.
/// It also refuses an <c>accessLog.format</c> that <see cref="AccessLogFormat"/> cannot compile (an unknown command
/// operator), which the serializer reads as any string and <see cref="ProxyConfigValidator"/> then refuses, naming it.
/// </remarks>
internal static partial class ProxyConfigReader
{
    /// <summary>
    /// True and the snapshot when the input reads strictly; false for anything else (the caller then reads it the
    /// slow way to say what is wrong). Never throws for bad input.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> utf8, [NotNullWhen(true)] out ProxyConfig? config)
    {
        config = null;
        var scratch = new Scratch();
        try
        {
            // Default reader options are the strict serializer's: no comments, no trailing commas, depth 64.
            var reader = new Utf8JsonReader(utf8, default(JsonReaderOptions));
            if (!reader.Read() || !ReadProxyConfig(ref reader, scratch, out var result) || reader.Read())
            {
                return false;
            }

            config = result;
            return true;
        }
        catch (JsonException)
        {
            return false; // malformed JSON, as the reader finds it
        }
        catch (InvalidOperationException)
        {
            return false; // a string that is not valid UTF-8 or UTF-16 (a lone surrogate escape)
        }
        finally
        {
            scratch.Dispose();
        }
    }

    private static bool ReadProxyConfig(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out ProxyConfig? value)
    {
        value = null;
        string? version = null;
        Node? node = null;
        EquatableArray<Listener> listeners = default;
        EquatableArray<RouteTable> routeTables = default;
        EquatableArray<Cluster> clusters = default;
        EquatableArray<Secret> secrets = default;
        AccessLogSettings? accessLog = null;
        EgressSettings? egress = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("version"u8) ? Value(ref r, ref seen, 1) && RequiredString(ref r, out version)
                : r.ValueTextEquals("node"u8) ? Value(ref r, ref seen, 2) && (IsNull(ref r) || ReadNode(ref r, out node))
                : r.ValueTextEquals("listeners"u8) ? Value(ref r, ref seen, 4) && ReadList(ref r, s, Kind.Listener, out listeners)
                : r.ValueTextEquals("routeTables"u8) ? Value(ref r, ref seen, 8) && ReadList(ref r, s, Kind.RouteTable, out routeTables)
                : r.ValueTextEquals("clusters"u8) ? Value(ref r, ref seen, 16) && ReadList(ref r, s, Kind.Cluster, out clusters)
                : r.ValueTextEquals("secrets"u8) ? Value(ref r, ref seen, 32) && ReadList(ref r, s, Kind.Secret, out secrets)
                : r.ValueTextEquals("accessLog"u8) ? Value(ref r, ref seen, 64) && (IsNull(ref r) || ReadAccessLog(ref r, out accessLog))
                : r.ValueTextEquals("egress"u8) && Value(ref r, ref seen, 128) && (IsNull(ref r) || ReadEgress(ref r, s, out egress));
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject || version is null)
        {
            return false;
        }

        value = new ProxyConfig
        {
            Version = version,
            Node = node,
            Listeners = listeners,
            RouteTables = routeTables,
            Clusters = clusters,
            Secrets = secrets,
            AccessLog = accessLog,
            Egress = egress,
        };
        return true;
    }

    private static bool ReadEgress(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out EgressSettings? value)
    {
        value = null;
        EquatableArray<string> allowedCidrs = default, exceptions = default;
        var allowFronting = false;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("allowedCidrs"u8) ? Value(ref r, ref seen, 1) && ReadList(ref r, s, Kind.String, out allowedCidrs)
                : r.ValueTextEquals("allowDomainFronting"u8) ? Value(ref r, ref seen, 2) && Boolean(ref r, out allowFronting)
                : r.ValueTextEquals("domainFrontingExceptions"u8) && Value(ref r, ref seen, 4) && ReadList(ref r, s, Kind.String, out exceptions);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject)
        {
            return false;
        }

        value = new EgressSettings { AllowedCidrs = allowedCidrs, AllowDomainFronting = allowFronting, DomainFrontingExceptions = exceptions };
        return true;
    }

    private static bool ReadNode(ref Utf8JsonReader r, [NotNullWhen(true)] out Node? value)
    {
        value = null;
        string? id = null, ns = null, serviceAccount = null;
        var role = ProxyRole.Sidecar;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("id"u8) ? Value(ref r, ref seen, 1) && OptionalString(ref r, out id)
                : r.ValueTextEquals("role"u8) ? Value(ref r, ref seen, 2) && ReadRole(ref r, out role)
                : r.ValueTextEquals("namespace"u8) ? Value(ref r, ref seen, 4) && OptionalString(ref r, out ns)
                : r.ValueTextEquals("serviceAccount"u8) && Value(ref r, ref seen, 8) && OptionalString(ref r, out serviceAccount);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject)
        {
            return false;
        }

        value = new Node { Id = id, Role = role, Namespace = ns, ServiceAccount = serviceAccount };
        return true;
    }

    private static bool ReadAccessLog(ref Utf8JsonReader r, [NotNullWhen(true)] out AccessLogSettings? value)
    {
        value = null;
        string? path = null, format = null;
        var encoding = AccessLogEncoding.Text;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("path"u8) ? Value(ref r, ref seen, 1) && RequiredString(ref r, out path)
                : r.ValueTextEquals("encoding"u8) ? Value(ref r, ref seen, 2) && ReadEncoding(ref r, out encoding)
                : r.ValueTextEquals("format"u8) && Value(ref r, ref seen, 4) && OptionalString(ref r, out format);
            if (!ok)
            {
                return false;
            }
        }

        // A format with an operator the proxy cannot print is refused here; the consistency check says which.
        if (r.TokenType != JsonTokenType.EndObject || path is null || (format is not null && !AccessLogFormat.TryParse(format, out _, out _)))
        {
            return false;
        }

        value = new AccessLogSettings { Path = path, Encoding = encoding, Format = format };
        return true;
    }

    private static bool ReadSecret(ref Utf8JsonReader r, [NotNullWhen(true)] out Secret? value)
    {
        value = null;
        string? name = null, certificateChain = null, privateKey = null, trustedCa = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("name"u8) ? Value(ref r, ref seen, 1) && RequiredString(ref r, out name)
                : r.ValueTextEquals("certificateChain"u8) ? Value(ref r, ref seen, 2) && OptionalString(ref r, out certificateChain)
                : r.ValueTextEquals("privateKey"u8) ? Value(ref r, ref seen, 4) && OptionalString(ref r, out privateKey)
                : r.ValueTextEquals("trustedCa"u8) && Value(ref r, ref seen, 8) && OptionalString(ref r, out trustedCa);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject || name is null)
        {
            return false;
        }

        value = new Secret { Name = name, CertificateChain = certificateChain, PrivateKey = privateKey, TrustedCa = trustedCa };
        return true;
    }

    // ---- Lists ----

    /// <summary>What a list holds, so one loop reads every list of objects without generic virtual calls.</summary>
    private enum Kind
    {
        String,
        Listener,
        FilterChain,
        RouteTable,
        VirtualHost,
        Route,
        HeaderMatch,
        WeightedCluster,
        Cluster,
        Endpoint,
        Secret,
        HeaderValue,
        MirrorPolicy,
        OriginMatch,
    }

    /// <summary><c>null</c> or absent is the empty list; an item is never null.</summary>
    private static bool ReadList<T>(ref Utf8JsonReader r, Scratch s, Kind kind, out EquatableArray<T> value)
        where T : class
    {
        value = default;
        if (r.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (r.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        var mark = s.Count;
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            if (!ReadItem(ref r, s, kind, out var item))
            {
                return false;
            }

            s.Push(item);
        }

        if (r.TokenType != JsonTokenType.EndArray)
        {
            return false;
        }

        value = s.Pop<T>(mark);
        return true;
    }

    private static bool ReadItem(ref Utf8JsonReader r, Scratch s, Kind kind, [NotNullWhen(true)] out object? item)
    {
        bool ok;
        switch (kind)
        {
            case Kind.String:
                ok = RequiredString(ref r, out var text);
                item = text;
                return ok;
            case Kind.Listener:
                ok = ReadListener(ref r, s, out var listener);
                item = listener;
                return ok;
            case Kind.FilterChain:
                ok = ReadFilterChain(ref r, s, out var chain);
                item = chain;
                return ok;
            case Kind.RouteTable:
                ok = ReadRouteTable(ref r, s, out var table);
                item = table;
                return ok;
            case Kind.VirtualHost:
                ok = ReadVirtualHost(ref r, s, out var host);
                item = host;
                return ok;
            case Kind.Route:
                ok = ReadRoute(ref r, s, out var route);
                item = route;
                return ok;
            case Kind.HeaderMatch:
                ok = ReadHeaderMatch(ref r, out var header);
                item = header;
                return ok;
            case Kind.WeightedCluster:
                ok = ReadWeightedCluster(ref r, s, out var weighted);
                item = weighted;
                return ok;
            case Kind.Cluster:
                ok = ReadCluster(ref r, s, out var cluster);
                item = cluster;
                return ok;
            case Kind.Endpoint:
                ok = ReadEndpoint(ref r, out var endpoint);
                item = endpoint;
                return ok;
            case Kind.Secret:
                ok = ReadSecret(ref r, out var secret);
                item = secret;
                return ok;
            case Kind.HeaderValue:
                ok = ReadHeaderValue(ref r, out var headerValue);
                item = headerValue;
                return ok;
            case Kind.MirrorPolicy:
                ok = ReadMirror(ref r, out var mirror);
                item = mirror;
                return ok;
            case Kind.OriginMatch:
                ok = ReadOriginMatch(ref r, out var origin);
                item = origin;
                return ok;
            default:
                item = null;
                return false;
        }
    }

    /// <summary>
    /// The items of the lists being read, innermost last, in one pooled array: a list pushes its items above the
    /// lists that contain it and pops them into an exact-size array when it ends.
    /// </summary>
    private sealed class Scratch : IDisposable
    {
        private object[] _items = ArrayPool<object>.Shared.Rent(64);

        public int Count { get; private set; }

        public void Push(object item)
        {
            if (Count == _items.Length)
            {
                var larger = ArrayPool<object>.Shared.Rent(_items.Length * 2);
                Array.Copy(_items, larger, Count);
                Array.Clear(_items, 0, Count);
                ArrayPool<object>.Shared.Return(_items);
                _items = larger;
            }

            _items[Count++] = item;
        }

        public EquatableArray<T> Pop<T>(int mark)
            where T : class
        {
            var count = Count - mark;
            if (count == 0)
            {
                return default;
            }

            var result = new T[count];
            for (var i = 0; i < count; i++)
            {
                result[i] = (T)_items[mark + i];
            }

            Array.Clear(_items, mark, count);
            Count = mark;
            return new EquatableArray<T>(result);
        }

        /// <summary>A duration text seen last and its value: a snapshot repeats the same few timeouts thousands of times.</summary>
        public byte[]? LastDurationText { get; set; }

        public TimeSpan LastDuration { get; set; }

        public void Dispose()
        {
            Array.Clear(_items, 0, Count);
            ArrayPool<object>.Shared.Return(_items);
            _items = [];
        }
    }
}
