using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

using Meshgate.Core.Validation;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>Scalars, enums by their <c>[JsonStringEnumMemberName]</c> names, and lists of values.</summary>
internal static partial class ProxyConfigReader
{
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

    /// <summary>A list of numbers: counted on a copy of the reader, then read again into one exact-size array.</summary>
    private static bool ReadInt32List(ref Utf8JsonReader r, out EquatableArray<int> value) => ReadValueList(ref r, Int32, out value);

    /// <summary>As <see cref="ReadInt32List"/>, for retry conditions.</summary>
    private static bool ReadRetryConditions(ref Utf8JsonReader r, out EquatableArray<RetryCondition> value) =>
        ReadValueList(ref r, ReadRetryCondition, out value);

    private delegate bool ItemReader<T>(ref Utf8JsonReader r, out T value);

    // Lists of values (no pooled buffer to fill): counted on a copy of the reader, then read again into one array.
    private static bool ReadValueList<T>(ref Utf8JsonReader r, ItemReader<T> item, out EquatableArray<T> value)
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

        var start = r;
        var count = 0;
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            if (!item(ref r, out _))
            {
                return false;
            }

            count++;
        }

        if (r.TokenType != JsonTokenType.EndArray)
        {
            return false;
        }

        if (count == 0)
        {
            return true;
        }

        var result = new T[count];
        for (var i = 0; i < count && start.Read(); i++)
        {
            item(ref start, out result[i]);
        }

        value = new EquatableArray<T>(result);
        return true;
    }

    private static bool ReadRetryCondition(ref Utf8JsonReader r, out RetryCondition value)
    {
        value = default;
        if (r.TokenType != JsonTokenType.String)
        {
            return false;
        }

        if (r.ValueTextEquals("connect-failure"u8))
        {
            value = RetryCondition.ConnectFailure;
        }
        else if (r.ValueTextEquals("refused-stream"u8))
        {
            value = RetryCondition.RefusedStream;
        }
        else if (r.ValueTextEquals("unavailable"u8))
        {
            value = RetryCondition.Unavailable;
        }
        else if (r.ValueTextEquals("cancelled"u8))
        {
            value = RetryCondition.Cancelled;
        }
        else if (r.ValueTextEquals("5xx"u8))
        {
            value = RetryCondition.ServerError;
        }
        else if (r.ValueTextEquals("gateway-error"u8))
        {
            value = RetryCondition.GatewayError;
        }
        else if (r.ValueTextEquals("reset"u8))
        {
            value = RetryCondition.Reset;
        }
        else if (r.ValueTextEquals("retriable-4xx"u8))
        {
            value = RetryCondition.Retriable4xx;
        }
        else if (r.ValueTextEquals("deadline-exceeded"u8))
        {
            value = RetryCondition.DeadlineExceeded;
        }
        else if (r.ValueTextEquals("resource-exhausted"u8))
        {
            value = RetryCondition.ResourceExhausted;
        }
        else
        {
            return false;
        }

        return true;
    }
}
