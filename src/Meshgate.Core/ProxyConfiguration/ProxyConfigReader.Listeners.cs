using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>Listeners, their filter chains and TLS termination.</summary>
internal static partial class ProxyConfigReader
{
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
}
