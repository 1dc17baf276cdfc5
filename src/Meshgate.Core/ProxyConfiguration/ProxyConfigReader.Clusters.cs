using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>Clusters, their endpoints and TLS origination.</summary>
internal static partial class ProxyConfigReader
{
    private static bool ReadCluster(ref Utf8JsonReader r, Scratch s, [NotNullWhen(true)] out Cluster? value)
    {
        value = null;
        string? name = null;
        var discovery = ClusterDiscovery.Static;
        EquatableArray<Endpoint> endpoints = default;
        TimeSpan? connectTimeout = null;
        UpstreamTls? tls = null;
        var http2 = false;
        var maxPending = 0;
        var hasMaxPending = false;
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
                : r.ValueTextEquals("tls"u8) ? Value(ref r, ref seen, 16) && (IsNull(ref r) || ReadUpstreamTls(ref r, s, out tls))
                : r.ValueTextEquals("maxPendingConnects"u8) ? Value(ref r, ref seen, 64) && (IsNull(ref r) || (Int32(ref r, out maxPending) && (hasMaxPending = true)))
                : r.ValueTextEquals("http2"u8) && Value(ref r, ref seen, 32) && Boolean(ref r, out http2);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject || (seen & (1 | 2)) != (1 | 2))
        {
            return false;
        }

        value = new Cluster { Name = name!, Discovery = discovery, Endpoints = endpoints, ConnectTimeout = connectTimeout, MaxPendingConnects = hasMaxPending ? maxPending : null, Tls = tls, Http2 = http2 };
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
        var tunnel = false;
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
                : r.ValueTextEquals("certificateSecret"u8) ? Value(ref r, ref seen, 16) && OptionalString(ref r, out certificateSecret)
                : r.ValueTextEquals("tunnel"u8) && Value(ref r, ref seen, 32) && Boolean(ref r, out tunnel);
            if (!ok)
            {
                return false;
            }
        }

        if (r.TokenType != JsonTokenType.EndObject || (seen & 1) == 0)
        {
            return false;
        }

        value = new UpstreamTls { Mode = mode, Sni = sni, SubjectAltNames = subjectAltNames, CaSecret = caSecret, CertificateSecret = certificateSecret, Tunnel = tunnel };
        return true;
    }
}
