using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// A custom access-log format (Istio's <c>meshConfig.accessLogFormat</c>), compiled once into literal and operator
/// <see cref="Segments"/> so that printing a line only walks them. The syntax is Envoy's (SubstitutionFormatParser):
/// text with command operators <c>%COMMAND%</c>, <c>%COMMAND(ARG)%</c> or <c>%COMMAND(ARG):N%</c> (COMMAND in
/// <c>A-Z</c>, <c>0-9</c>, <c>_</c>), and <c>%%</c> for a literal '%'; any other '%' is an error, as in Envoy. The
/// operators are those of Istio's default format and the peer identities (<see cref="Supported"/>); anything else is
/// refused, naming the operator. Like Istio ("Istio will insert a newline ('\n') on all formats (if missing)"), a
/// format that does not end with a newline gets one.
/// </summary>
public sealed class AccessLogFormat
{
    /// <summary>Every operator accepted, for error messages.</summary>
    public const string Supported =
        "%START_TIME%, %PROTOCOL%, %RESPONSE_CODE%, %RESPONSE_FLAGS%, %RESPONSE_CODE_DETAILS%, "
        + "%CONNECTION_TERMINATION_DETAILS%, %UPSTREAM_TRANSPORT_FAILURE_REASON%, %BYTES_RECEIVED%, %BYTES_SENT%, "
        + "%DURATION%, %UPSTREAM_HOST%, %UPSTREAM_CLUSTER%, %UPSTREAM_LOCAL_ADDRESS%, %DOWNSTREAM_LOCAL_ADDRESS%, "
        + "%DOWNSTREAM_REMOTE_ADDRESS%, %REQUESTED_SERVER_NAME%, %ROUTE_NAME%, %DOWNSTREAM_PEER_URI_SAN%, "
        + "%DOWNSTREAM_LOCAL_URI_SAN%, %UPSTREAM_PEER_URI_SAN%, %REQ(H)% or %REQ(H?H2)% with an optional :N for "
        + RequestHeaderList + ", %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%, and %% for a literal '%'";

    private const string RequestHeaderList = ":METHOD, :PATH, X-ENVOY-ORIGINAL-PATH, :AUTHORITY, HOST, USER-AGENT, X-FORWARDED-FOR, X-REQUEST-ID";

    private const string UpstreamServiceTimeHeader = "X-ENVOY-UPSTREAM-SERVICE-TIME";

    private static readonly FrozenDictionary<string, AccessLogOperator> s_operators = new Dictionary<string, AccessLogOperator>(StringComparer.Ordinal)
    {
        ["START_TIME"] = AccessLogOperator.StartTime,
        ["PROTOCOL"] = AccessLogOperator.Protocol,
        ["RESPONSE_CODE"] = AccessLogOperator.ResponseCode,
        ["RESPONSE_FLAGS"] = AccessLogOperator.ResponseFlags,
        ["RESPONSE_CODE_DETAILS"] = AccessLogOperator.ResponseCodeDetails,
        ["CONNECTION_TERMINATION_DETAILS"] = AccessLogOperator.ConnectionTerminationDetails,
        ["UPSTREAM_TRANSPORT_FAILURE_REASON"] = AccessLogOperator.UpstreamTransportFailureReason,
        ["BYTES_RECEIVED"] = AccessLogOperator.BytesReceived,
        ["BYTES_SENT"] = AccessLogOperator.BytesSent,
        ["DURATION"] = AccessLogOperator.Duration,
        ["UPSTREAM_HOST"] = AccessLogOperator.UpstreamHost,
        ["UPSTREAM_CLUSTER"] = AccessLogOperator.UpstreamCluster,
        ["UPSTREAM_LOCAL_ADDRESS"] = AccessLogOperator.UpstreamLocalAddress,
        ["DOWNSTREAM_LOCAL_ADDRESS"] = AccessLogOperator.DownstreamLocalAddress,
        ["DOWNSTREAM_REMOTE_ADDRESS"] = AccessLogOperator.DownstreamRemoteAddress,
        ["REQUESTED_SERVER_NAME"] = AccessLogOperator.RequestedServerName,
        ["ROUTE_NAME"] = AccessLogOperator.RouteName,
        ["DOWNSTREAM_PEER_URI_SAN"] = AccessLogOperator.DownstreamPeerUriSan,
        ["DOWNSTREAM_LOCAL_URI_SAN"] = AccessLogOperator.DownstreamLocalUriSan,
        ["UPSTREAM_PEER_URI_SAN"] = AccessLogOperator.UpstreamPeerUriSan,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    // The request headers an entry records. HTTP/2's :authority is HTTP/1.1's Host (RFC 9113 §8.3.1); the path the entry
    // records is the one the client sent, which is what X-ENVOY-ORIGINAL-PATH holds after a rewrite.
    private static readonly FrozenDictionary<string, AccessLogOperator> s_requestHeaders = new Dictionary<string, AccessLogOperator>(StringComparer.OrdinalIgnoreCase)
    {
        [":METHOD"] = AccessLogOperator.Method,
        [":PATH"] = AccessLogOperator.Path,
        ["X-ENVOY-ORIGINAL-PATH"] = AccessLogOperator.Path,
        [":AUTHORITY"] = AccessLogOperator.Authority,
        ["HOST"] = AccessLogOperator.Authority,
        ["USER-AGENT"] = AccessLogOperator.UserAgent,
        ["X-FORWARDED-FOR"] = AccessLogOperator.ForwardedFor,
        ["X-REQUEST-ID"] = AccessLogOperator.RequestId,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private AccessLogFormat(string text, EquatableArray<AccessLogSegment> segments)
    {
        Text = text;
        Segments = segments;
    }

    /// <summary>The format as written.</summary>
    public string Text { get; }

    /// <summary>Literals and operators in order; the last one prints the line's newline.</summary>
    public EquatableArray<AccessLogSegment> Segments { get; }

    /// <summary>The compiled format; throws <see cref="FormatException"/> with <see cref="TryParse"/>'s message.</summary>
    public static AccessLogFormat Parse(string text) =>
        TryParse(text, out var format, out var error) ? format : throw new FormatException(error);

    /// <summary>The compiled format, or false and what is wrong, naming the operator and where it is.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out AccessLogFormat? format, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        format = null;
        var segments = new List<AccessLogSegment>();
        var literal = new StringBuilder();
        var position = 0;
        while (position < text.Length)
        {
            var percent = text.IndexOf('%', position);
            if (percent < 0)
            {
                literal.Append(text, position, text.Length - position);
                break;
            }

            literal.Append(text, position, percent - position);
            if (percent + 1 < text.Length && text[percent + 1] == '%')
            {
                literal.Append('%');
                position = percent + 2;
                continue;
            }

            if (!TryCommand(text, percent, out var segment, out position, out error))
            {
                return false;
            }

            Flush(literal, segments);
            segments.Add(segment);
        }

        if (!text.EndsWith('\n'))
        {
            literal.Append('\n');
        }

        Flush(literal, segments);
        format = new AccessLogFormat(text, [.. segments]);
        error = null;
        return true;
    }

    public override string ToString() => Text;

    /// <summary>One <c>%COMMAND(ARG):N%</c> at <paramref name="start"/> (its first '%'); <paramref name="next"/> is after its last '%'.</summary>
    private static bool TryCommand(string text, int start, out AccessLogSegment segment, out int next, [NotNullWhen(false)] out string? error)
    {
        segment = default;
        next = start + 1;
        while (next < text.Length && (char.IsAsciiLetterUpper(text[next]) || char.IsAsciiDigit(text[next]) || text[next] == '_'))
        {
            next++;
        }

        var command = text[(start + 1)..next];
        if (command.Length == 0)
        {
            error = $"'%' at position {start} does not start a command operator (%COMMAND%, in upper case); write %% for a literal '%'";
            return false;
        }

        string? argument = null;
        if (next < text.Length && text[next] == '(')
        {
            var close = text.IndexOf(')', next);
            if (close < 0)
            {
                error = $"%{command}( at position {start} has no closing ')'";
                return false;
            }

            argument = text[(next + 1)..close];
            next = close + 1;
        }

        var maxLength = 0;
        if (next < text.Length && text[next] == ':')
        {
            var digits = next + 1;
            while (digits < text.Length && char.IsAsciiDigit(text[digits]))
            {
                digits++;
            }

            if (digits == next + 1 || !int.TryParse(text.AsSpan(next + 1, digits - next - 1), NumberStyles.None, CultureInfo.InvariantCulture, out maxLength) || maxLength == 0)
            {
                error = $"%{command}...:N% at position {start}: N must be a positive whole number";
                return false;
            }

            next = digits;
        }

        if (next >= text.Length || text[next] != '%')
        {
            error = $"the command operator %{command}... at position {start} is not closed with '%'";
            return false;
        }

        next++;
        return Resolve(command, argument, maxLength, out segment, out error);
    }

    private static bool Resolve(string command, string? argument, int maxLength, out AccessLogSegment segment, [NotNullWhen(false)] out string? error)
    {
        segment = default;
        error = null;
        switch (command)
        {
            case "REQ":
                return RequestHeader(argument, maxLength, out segment, out error);
            case "RESP":
                if (string.Equals(argument, UpstreamServiceTimeHeader, StringComparison.OrdinalIgnoreCase))
                {
                    segment = new AccessLogSegment(AccessLogOperator.UpstreamServiceTime, MaxLength: maxLength);
                    return true;
                }

                error = $"%RESP({argument})%: the access log records only the response header {UpstreamServiceTimeHeader}";
                return false;
        }

        if (!s_operators.TryGetValue(command, out var op))
        {
            error = $"unknown command operator %{command}%; supported: {Supported}";
            return false;
        }

        if (argument is not null || maxLength != 0)
        {
            error = $"%{command}% takes no argument and no length (found %{command}{(argument is null ? "" : "(" + argument + ")")}{(maxLength == 0 ? "" : ":" + maxLength.ToString(CultureInfo.InvariantCulture))}%)";
            return false;
        }

        segment = new AccessLogSegment(op);
        return true;
    }

    private static bool RequestHeader(string? argument, int maxLength, out AccessLogSegment segment, [NotNullWhen(false)] out string? error)
    {
        segment = default;
        if (string.IsNullOrEmpty(argument))
        {
            error = $"%REQ% needs a header, %REQ(H)%, with H one of {RequestHeaderList}";
            return false;
        }

        var question = argument.IndexOf('?', StringComparison.Ordinal);
        var main = question < 0 ? argument : argument[..question];
        var alternative = question < 0 ? null : argument[(question + 1)..];
        if (!s_requestHeaders.TryGetValue(main, out var op))
        {
            error = $"%REQ({argument})%: the access log does not record the request header \"{main}\"; it records {RequestHeaderList}";
            return false;
        }

        var fallback = AccessLogOperator.Literal;
        if (alternative is not null && !s_requestHeaders.TryGetValue(alternative, out fallback))
        {
            error = $"%REQ({argument})%: the access log does not record the request header \"{alternative}\"; it records {RequestHeaderList}";
            return false;
        }

        segment = new AccessLogSegment(op, Fallback: fallback == op ? AccessLogOperator.Literal : fallback, MaxLength: maxLength);
        error = null;
        return true;
    }

    private static void Flush(StringBuilder literal, List<AccessLogSegment> segments)
    {
        if (literal.Length > 0)
        {
            segments.Add(new AccessLogSegment(AccessLogOperator.Literal, literal.ToString()));
            literal.Clear();
        }
    }
}
