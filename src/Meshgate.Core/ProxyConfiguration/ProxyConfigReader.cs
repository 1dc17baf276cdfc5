using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

using Meshgate.Core.Validation;

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
                : r.ValueTextEquals("accessLog"u8) && Value(ref r, ref seen, 64) && (IsNull(ref r) || ReadAccessLog(ref r, out accessLog));
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
        };
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
        string? path = null;
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
                : r.ValueTextEquals("encoding"u8) && Value(ref r, ref seen, 2) && ReadEncoding(ref r, out encoding);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject || path is null)
        {
            return false;
        }

        value = new AccessLogSettings { Path = path, Encoding = encoding };
        return true;
    }

    private static bool ReadListener(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out Listener? value)
    {
        value = null;
        string? name = null, address = null;
        int port = 0;
        var protocol = ListenerProtocol.Http;
        EquatableArray<FilterChain> filterChains = default;
        FilterChain? defaultFilterChain = null;
        bool bindToPort = false, explicitHttpProxy = false, useOriginalDestination = false;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("name"u8) ? Value(ref r, ref seen, 1) && RequiredString(ref r, out name)
                : r.ValueTextEquals("address"u8) ? Value(ref r, ref seen, 2) && RequiredString(ref r, out address)
                : r.ValueTextEquals("port"u8) ? Value(ref r, ref seen, 4) && Int32(ref r, out port)
                : r.ValueTextEquals("protocol"u8) ? Value(ref r, ref seen, 8) && ReadProtocol(ref r, out protocol)
                : r.ValueTextEquals("filterChains"u8) ? Value(ref r, ref seen, 16) && ReadList(ref r, s, Kind.FilterChain, out filterChains)
                : r.ValueTextEquals("defaultFilterChain"u8) ? Value(ref r, ref seen, 32) && (IsNull(ref r) || ReadFilterChain(ref r, s, out defaultFilterChain))
                : r.ValueTextEquals("bindToPort"u8) ? Value(ref r, ref seen, 64) && Boolean(ref r, out bindToPort)
                : r.ValueTextEquals("explicitHttpProxy"u8) ? Value(ref r, ref seen, 128) && Boolean(ref r, out explicitHttpProxy)
                : r.ValueTextEquals("useOriginalDestination"u8) && Value(ref r, ref seen, 256) && Boolean(ref r, out useOriginalDestination);
            if (!ok)
            {
                return false;
            }
        }

        // name, address, port and protocol are required; bindToPort has a default of its own (true), so it is too.
        if (r.TokenType != JsonTokenType.EndObject || (seen & (1 | 2 | 4 | 8 | 64)) != (1 | 2 | 4 | 8 | 64))
        {
            return false;
        }

        value = new Listener
        {
            Name = name!,
            Address = address!,
            Port = port,
            Protocol = protocol,
            FilterChains = filterChains,
            DefaultFilterChain = defaultFilterChain,
            BindToPort = bindToPort,
            ExplicitHttpProxy = explicitHttpProxy,
            UseOriginalDestination = useOriginalDestination,
        };
        return true;
    }

    private static bool ReadFilterChain(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out FilterChain? value)
    {
        value = null;
        string? name = null, routeTable = null, cluster = null;
        EquatableArray<string> serverNames = default;
        DownstreamTls? tls = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("name"u8) ? Value(ref r, ref seen, 1) && OptionalString(ref r, out name)
                : r.ValueTextEquals("serverNames"u8) ? Value(ref r, ref seen, 2) && ReadList(ref r, s, Kind.String, out serverNames)
                : r.ValueTextEquals("tls"u8) ? Value(ref r, ref seen, 4) && (IsNull(ref r) || ReadDownstreamTls(ref r, s, out tls))
                : r.ValueTextEquals("routeTable"u8) ? Value(ref r, ref seen, 8) && OptionalString(ref r, out routeTable)
                : r.ValueTextEquals("cluster"u8) && Value(ref r, ref seen, 16) && OptionalString(ref r, out cluster);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject)
        {
            return false;
        }

        value = new FilterChain { Name = name, ServerNames = serverNames, Tls = tls, RouteTable = routeTable, Cluster = cluster };
        return true;
    }

    private static bool ReadDownstreamTls(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out DownstreamTls? value)
    {
        value = null;
        var mode = TlsMode.Simple;
        string? certificateSecret = null, caSecret = null;
        EquatableArray<string> subjectAltNames = default;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("mode"u8) ? Value(ref r, ref seen, 1) && ReadTlsMode(ref r, out mode)
                : r.ValueTextEquals("certificateSecret"u8) ? Value(ref r, ref seen, 2) && OptionalString(ref r, out certificateSecret)
                : r.ValueTextEquals("caSecret"u8) ? Value(ref r, ref seen, 4) && OptionalString(ref r, out caSecret)
                : r.ValueTextEquals("subjectAltNames"u8) && Value(ref r, ref seen, 8) && ReadList(ref r, s, Kind.String, out subjectAltNames);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject || (seen & 1) == 0)
        {
            return false;
        }

        value = new DownstreamTls { Mode = mode, CertificateSecret = certificateSecret, CaSecret = caSecret, SubjectAltNames = subjectAltNames };
        return true;
    }

    private static bool ReadCluster(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out Cluster? value)
    {
        value = null;
        string? name = null;
        var discovery = ClusterDiscovery.Static;
        EquatableArray<Endpoint> endpoints = default;
        TimeSpan? connectTimeout = null;
        UpstreamTls? tls = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("name"u8) ? Value(ref r, ref seen, 1) && RequiredString(ref r, out name)
                : r.ValueTextEquals("discovery"u8) ? Value(ref r, ref seen, 2) && ReadDiscovery(ref r, out discovery)
                : r.ValueTextEquals("endpoints"u8) ? Value(ref r, ref seen, 4) && ReadList(ref r, s, Kind.Endpoint, out endpoints)
                : r.ValueTextEquals("connectTimeout"u8) ? Value(ref r, ref seen, 8) && Duration(ref r, s, out connectTimeout)
                : r.ValueTextEquals("tls"u8) && Value(ref r, ref seen, 16) && (IsNull(ref r) || ReadUpstreamTls(ref r, s, out tls));
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject || (seen & (1 | 2)) != (1 | 2))
        {
            return false;
        }

        value = new Cluster { Name = name!, Discovery = discovery, Endpoints = endpoints, ConnectTimeout = connectTimeout, Tls = tls };
        return true;
    }

    private static bool ReadEndpoint(ref Utf8JsonReader r, [NotNullWhen(true)] out Endpoint? value)
    {
        value = null;
        string? address = null;
        int port = 0, weight = 0;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("address"u8) ? Value(ref r, ref seen, 1) && RequiredString(ref r, out address)
                : r.ValueTextEquals("port"u8) ? Value(ref r, ref seen, 2) && Int32(ref r, out port)
                : r.ValueTextEquals("weight"u8) && Value(ref r, ref seen, 4) && Int32(ref r, out weight);
            if (!ok)
            {
                return false;
            }
        }

        // weight has a default of its own (1), so it must be written out.
        if (r.TokenType != JsonTokenType.EndObject || seen != (1 | 2 | 4))
        {
            return false;
        }

        value = new Endpoint { Address = address!, Port = port, Weight = weight };
        return true;
    }

    private static bool ReadUpstreamTls(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out UpstreamTls? value)
    {
        value = null;
        var mode = TlsMode.Simple;
        string? sni = null, caSecret = null, certificateSecret = null;
        EquatableArray<string> subjectAltNames = default;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("mode"u8) ? Value(ref r, ref seen, 1) && ReadTlsMode(ref r, out mode)
                : r.ValueTextEquals("sni"u8) ? Value(ref r, ref seen, 2) && OptionalString(ref r, out sni)
                : r.ValueTextEquals("subjectAltNames"u8) ? Value(ref r, ref seen, 4) && ReadList(ref r, s, Kind.String, out subjectAltNames)
                : r.ValueTextEquals("caSecret"u8) ? Value(ref r, ref seen, 8) && OptionalString(ref r, out caSecret)
                : r.ValueTextEquals("certificateSecret"u8) && Value(ref r, ref seen, 16) && OptionalString(ref r, out certificateSecret);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject || (seen & 1) == 0)
        {
            return false;
        }

        value = new UpstreamTls { Mode = mode, Sni = sni, SubjectAltNames = subjectAltNames, CaSecret = caSecret, CertificateSecret = certificateSecret };
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
                ok = ReadWeightedCluster(ref r, out var weighted);
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

    // ---- Scalars ----

    /// <summary>Moves to the next property name; false at the end of the object.</summary>
    private static bool NextProperty(ref Utf8JsonReader r) => r.Read() && r.TokenType == JsonTokenType.PropertyName;

    /// <summary>Moves from a property name to its value, refusing a field seen before.</summary>
    private static bool Value(ref Utf8JsonReader r, ref int seen, int field)
    {
        if ((seen & field) != 0)
        {
            return false;
        }

        seen |= field;
        return r.Read();
    }

    private static bool IsNull(ref Utf8JsonReader r) => r.TokenType == JsonTokenType.Null;

    private static bool RequiredString(ref Utf8JsonReader r, [NotNullWhen(true)] out string? value)
    {
        value = r.TokenType == JsonTokenType.String ? r.GetString() : null;
        return value is not null;
    }

    private static bool OptionalString(ref Utf8JsonReader r, out string? value)
    {
        value = null;
        if (r.TokenType == JsonTokenType.String)
        {
            value = r.GetString();
            return true;
        }

        return r.TokenType == JsonTokenType.Null;
    }

    private static bool Int32(ref Utf8JsonReader r, out int value)
    {
        value = 0;
        return r.TokenType == JsonTokenType.Number && r.TryGetInt32(out value);
    }

    private static bool OptionalInt32(ref Utf8JsonReader r, out int? value)
    {
        value = null;
        if (r.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (!Int32(ref r, out var number))
        {
            return false;
        }

        value = number;
        return true;
    }

    private static bool Boolean(ref Utf8JsonReader r, out bool value)
    {
        value = r.TokenType == JsonTokenType.True;
        return value || r.TokenType == JsonTokenType.False;
    }

    private static bool OptionalBoolean(ref Utf8JsonReader r, out bool? value)
    {
        value = null;
        if (r.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (!Boolean(ref r, out var flag))
        {
            return false;
        }

        value = flag;
        return true;
    }

    /// <summary>As <see cref="DurationJsonConverter"/> reads it: a string <see cref="Durations.TryParse"/> takes, or null.</summary>
    private static bool Duration(ref Utf8JsonReader r, Scratch s, out TimeSpan? value)
    {
        value = null;
        if (r.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (r.TokenType != JsonTokenType.String)
        {
            return false;
        }

        if (s.LastDurationText is { } last && !r.ValueIsEscaped && r.ValueSpan.SequenceEqual(last))
        {
            value = s.LastDuration;
            return true;
        }

        if (!Durations.TryParse(r.GetString()!, out var duration))
        {
            return false;
        }

        if (!r.ValueIsEscaped && r.ValueSpan.Length <= 32)
        {
            s.LastDurationText = r.ValueSpan.ToArray();
            s.LastDuration = duration;
        }

        value = duration;
        return true;
    }

    // ---- Enums, by the names of their [JsonStringEnumMemberName] attributes only ----

    private static bool ReadRole(ref Utf8JsonReader r, out ProxyRole value)
    {
        value = ProxyRole.Sidecar;
        if (r.TokenType != JsonTokenType.String)
        {
            return false;
        }

        if (r.ValueTextEquals("sidecar"u8))
        {
            return true;
        }

        value = ProxyRole.Gateway;
        return r.ValueTextEquals("gateway"u8);
    }

    private static bool ReadEncoding(ref Utf8JsonReader r, out AccessLogEncoding value)
    {
        value = AccessLogEncoding.Text;
        if (r.TokenType != JsonTokenType.String)
        {
            return false;
        }

        if (r.ValueTextEquals("TEXT"u8))
        {
            return true;
        }

        value = AccessLogEncoding.Json;
        return r.ValueTextEquals("JSON"u8);
    }

    private static bool ReadProtocol(ref Utf8JsonReader r, out ListenerProtocol value)
    {
        value = ListenerProtocol.Http;
        if (r.TokenType != JsonTokenType.String)
        {
            return false;
        }

        if (r.ValueTextEquals("HTTP"u8))
        {
            return true;
        }

        if (r.ValueTextEquals("TLS"u8))
        {
            value = ListenerProtocol.Tls;
            return true;
        }

        value = ListenerProtocol.Tcp;
        return r.ValueTextEquals("TCP"u8);
    }

    private static bool ReadTlsMode(ref Utf8JsonReader r, out TlsMode value)
    {
        value = TlsMode.Simple;
        if (r.TokenType != JsonTokenType.String)
        {
            return false;
        }

        if (r.ValueTextEquals("SIMPLE"u8))
        {
            return true;
        }

        if (r.ValueTextEquals("MUTUAL"u8))
        {
            value = TlsMode.Mutual;
            return true;
        }

        value = TlsMode.IstioMutual;
        return r.ValueTextEquals("ISTIO_MUTUAL"u8);
    }

    private static bool ReadDiscovery(ref Utf8JsonReader r, out ClusterDiscovery value)
    {
        value = default;
        if (r.TokenType != JsonTokenType.String)
        {
            return false;
        }

        if (r.ValueTextEquals("STRICT_DNS"u8))
        {
            value = ClusterDiscovery.StrictDns;
        }
        else if (r.ValueTextEquals("STATIC"u8))
        {
            value = ClusterDiscovery.Static;
        }
        else if (r.ValueTextEquals("LOGICAL_DNS"u8))
        {
            value = ClusterDiscovery.LogicalDns;
        }
        else if (r.ValueTextEquals("ORIGINAL_DST"u8))
        {
            value = ClusterDiscovery.OriginalDestination;
        }
        else if (r.ValueTextEquals("EDS"u8))
        {
            value = ClusterDiscovery.Eds;
        }
        else
        {
            return false;
        }

        return true;
    }
}
