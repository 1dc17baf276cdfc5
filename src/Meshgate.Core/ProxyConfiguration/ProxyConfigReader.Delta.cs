using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>Deltas (<see cref="ProxyConfigDelta"/>): the same strict reading, with the objects read by the snapshot's readers.</summary>
internal static partial class ProxyConfigReader
{
    /// <summary>The delta, or where and why it does not read as one. Never throws for bad input.</summary>
    public static bool TryReadDelta(ReadOnlySpan<byte> utf8, [NotNullWhen(true)] out ProxyConfigDelta? delta, [NotNullWhen(false)] out string? error)
    {
        delta = null;
        var scratch = new Scratch();
        var at = new DeltaPath();
        var reader = new Utf8JsonReader(utf8, default(JsonReaderOptions));
        try
        {
            if (reader.Read() && ReadDelta(ref reader, scratch, at, out var result) && !reader.Read())
            {
                delta = result;
                error = null;
                return true;
            }

            error = $"the delta does not read as one at byte {reader.TokenStartIndex}{at}";
        }
        catch (JsonException e)
        {
            error = $"the delta is not JSON at byte {e.BytePositionInLine}{at}: {e.Message}";
        }
        catch (InvalidOperationException e)
        {
            error = $"the delta holds an invalid string{at}: {e.Message}";
        }
        finally
        {
            scratch.Dispose();
        }

        return false;
    }

    private static bool ReadDelta(ref Utf8JsonReader r, Scratch s, DeltaPath at, [NotNullWhen(true)] out ProxyConfigDelta? value)
    {
        value = null;
        string? version = null, baseVersion = null;
        ListDelta<Listener>? listeners = null;
        ListDelta<RouteTablePatch>? routeTables = null;
        ListDelta<Cluster>? clusters = null;
        ListDelta<Secret>? secrets = null;
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
                : r.ValueTextEquals("baseVersion"u8) ? Value(ref r, ref seen, 2) && RequiredString(ref r, out baseVersion)
                : r.ValueTextEquals("listeners"u8) ? Value(ref r, ref seen, 4) && ReadListDelta(ref r, s, Kind.Listener, at.Enter("listeners"), out listeners)
                : r.ValueTextEquals("routeTables"u8) ? Value(ref r, ref seen, 8) && ReadListDelta(ref r, s, Kind.RouteTable, at.Enter("routeTables"), out routeTables)
                : r.ValueTextEquals("clusters"u8) ? Value(ref r, ref seen, 16) && ReadListDelta(ref r, s, Kind.Cluster, at.Enter("clusters"), out clusters)
                : r.ValueTextEquals("secrets"u8) ? Value(ref r, ref seen, 32) && ReadListDelta(ref r, s, Kind.Secret, at.Enter("secrets"), out secrets)
                : r.ValueTextEquals("accessLog"u8) ? Value(ref r, ref seen, 64) && (IsNull(ref r) || ReadAccessLog(ref r, out accessLog))
                : r.ValueTextEquals("egress"u8) && Value(ref r, ref seen, 128) && (IsNull(ref r) || ReadEgress(ref r, s, out egress));
            if (!ok)
            {
                return false;
            }

            at.Leave();
        }

        if (r.TokenType != JsonTokenType.EndObject || version is null || baseVersion is null)
        {
            return false;
        }

        value = new ProxyConfigDelta
        {
            Version = version,
            BaseVersion = baseVersion,
            Listeners = listeners,
            RouteTables = routeTables,
            Clusters = clusters,
            Secrets = secrets,
            SetsAccessLog = (seen & 64) != 0,
            AccessLog = accessLog,
            SetsEgress = (seen & 128) != 0,
            Egress = egress,
        };
        return true;
    }

    /// <summary>
    /// <c>{"remove": [names], "put": [{"index": n, "value": object}]}</c>, either list optional. For route tables
    /// (<see cref="Kind.RouteTable"/>) each put is a patch instead: <c>{"index": n, "name": table, "virtualHosts": delta}</c>.
    /// </summary>
    private static bool ReadListDelta<T>(ref Utf8JsonReader r, Scratch s, Kind kind, DeltaPath at, [NotNullWhen(true)] out ListDelta<T>? value)
        where T : class
    {
        value = null;
        EquatableArray<string> remove = default;
        List<DeltaPut<T>>? puts = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            bool ok;
            if (r.ValueTextEquals("remove"u8))
            {
                ok = Value(ref r, ref seen, 1) && ReadList(ref r, s, Kind.String, out remove);
            }
            else if (r.ValueTextEquals("put"u8) && Value(ref r, ref seen, 2) && r.TokenType == JsonTokenType.StartArray)
            {
                puts = [];
                ok = true;
                while (ok && r.Read() && r.TokenType != JsonTokenType.EndArray)
                {
                    at.Item(puts.Count);
                    ok = kind == Kind.RouteTable ? ReadRouteTablePatch(ref r, s, at, out int index, out var item) : ReadPut(ref r, s, kind, out index, out item);
                    if (ok)
                    {
                        puts.Add(new DeltaPut<T>(index, (T)item!));
                    }
                }

                ok = ok && r.TokenType == JsonTokenType.EndArray;
                if (ok)
                {
                    at.Item(-1);
                }
            }
            else
            {
                ok = false;
            }

            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject)
        {
            return false;
        }

        value = new ListDelta<T> { Remove = remove, Put = puts is null ? default : new EquatableArray<DeltaPut<T>>([.. puts]) };
        return true;
    }

    private static bool ReadPut(ref Utf8JsonReader r, Scratch s, Kind kind, out int index, out object? item)
    {
        index = -1;
        item = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("index"u8) ? Value(ref r, ref seen, 1) && Int32(ref r, out index) && index >= 0
                : r.ValueTextEquals("value"u8) && Value(ref r, ref seen, 2) && ReadItem(ref r, s, kind, out item);
            if (!ok)
            {
                return false;
            }
        }

        return r.TokenType == JsonTokenType.EndObject && seen == 3;
    }

    private static bool ReadRouteTablePatch(ref Utf8JsonReader r, Scratch s, DeltaPath at, out int index, out object? value)
    {
        value = null;
        index = -1;
        string? name = null;
        ListDelta<VirtualHost>? hosts = null;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        while (NextProperty(ref r))
        {
            var ok =
                r.ValueTextEquals("index"u8) ? Value(ref r, ref seen, 1) && Int32(ref r, out index) && index >= 0
                : r.ValueTextEquals("name"u8) ? Value(ref r, ref seen, 2) && RequiredString(ref r, out name)
                : r.ValueTextEquals("virtualHosts"u8) && Value(ref r, ref seen, 4) && ReadListDelta(ref r, s, Kind.VirtualHost, at.Nested("virtualHosts"), out hosts);
            if (!ok)
            {
                return false;
            }

            at.Nested(null);
        }

        if (r.TokenType != JsonTokenType.EndObject || index < 0 || name is null)
        {
            return false;
        }

        value = new RouteTablePatch { Name = name, VirtualHosts = hosts };
        return true;
    }

    /// <summary>Where the delta reader is, for the error: <c>routeTables.put[0].virtualHosts.put[3]</c>. Formatted only on failure.</summary>
    private sealed class DeltaPath
    {
        private string? _section;
        private int _index = -1;
        private string? _nested;
        private int _nestedIndex = -1;

        public DeltaPath Enter(string section)
        {
            _section = section;
            return this;
        }

        public void Leave()
        {
            _section = null;
            _index = -1;
        }

        public void Item(int index)
        {
            if (_nested is not null)
            {
                _nestedIndex = index;
            }
            else
            {
                _index = index;
            }
        }

        public DeltaPath Nested(string? field)
        {
            _nested = field;
            _nestedIndex = -1;
            return this;
        }

        public override string ToString()
        {
            if (_section is null)
            {
                return "";
            }

            var text = " (" + _section + (_index >= 0 ? string.Create(CultureInfo.InvariantCulture, $".put[{_index}]") : "");
            if (_nested is not null)
            {
                text += "." + _nested + (_nestedIndex >= 0 ? string.Create(CultureInfo.InvariantCulture, $".put[{_nestedIndex}]") : "");
            }

            return text + ")";
        }
    }
}
