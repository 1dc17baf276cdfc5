using System.Buffers;
using System.Text;

namespace Meshgate.Proxy.Observability;

/// <summary>
/// Turns an <see cref="AccessLogEntry"/> into one line of Istio's access log (meshConfig.accessLogEncoding).
/// An instance is used by one thread at a time: <see cref="AccessLogWriter"/> owns one.
/// </summary>
public abstract class AccessLogFormatter
{
    private protected AccessLogFormatter()
    {
    }

    public static AccessLogFormatter Create(AccessLogEncoding encoding) => Create(encoding, null);

    /// <summary>
    /// The formatter for meshConfig.accessLogEncoding and accessLogFormat: TEXT with <paramref name="format"/> compiles it
    /// (once; throws <see cref="FormatException"/> for an operator it cannot print), TEXT without it is Istio's default
    /// format, JSON always writes Istio's default keys.
    /// </summary>
    public static AccessLogFormatter Create(AccessLogEncoding encoding, string? format) => encoding switch
    {
        AccessLogEncoding.Text when !string.IsNullOrEmpty(format) => CustomTextAccessLogFormatter.Compile(format),
        AccessLogEncoding.Text => new TextAccessLogFormatter(),
        AccessLogEncoding.Json => new JsonAccessLogFormatter(),
        _ => throw new ArgumentOutOfRangeException(nameof(encoding), encoding, "unknown access log encoding"),
    };

    /// <summary>Appends the entry as one UTF-8 line, '\n' included, to <paramref name="output"/>.</summary>
    public abstract void Write(in AccessLogEntry entry, IBufferWriter<byte> output);

    /// <summary>The line as a string, '\n' included; for tests and diagnostics, not the hot path.</summary>
    public string Format(in AccessLogEntry entry)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        Write(entry, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
