using System.Text.Json.Serialization;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// The access log, as Istio's <c>meshConfig.accessLogFile</c>, <c>accessLogEncoding</c> and <c>accessLogFormat</c> set
/// it: one line per HTTP request and per TCP/TLS connection, in Istio's default format or a custom one.
/// </summary>
public sealed record AccessLogSettings
{
    /// <summary>A file path; <c>/dev/stdout</c> writes to the proxy's standard output.</summary>
    public required string Path { get; init; }

    /// <summary>Default TEXT (Istio's default format); JSON writes the same fields as an object per line.</summary>
    public AccessLogEncoding Encoding { get; init; }

    /// <summary>
    /// <c>meshConfig.accessLogFormat</c>: a TEXT line with Envoy command operators (<see cref="AccessLogFormat"/> says
    /// which); null for Istio's default format. JSON lines keep Istio's default keys.
    /// </summary>
    public string? Format { get; init; }

    public const string Stdout = "/dev/stdout";
}

public enum AccessLogEncoding
{
    [JsonStringEnumMemberName("TEXT")] Text,
    [JsonStringEnumMemberName("JSON")] Json,
}
