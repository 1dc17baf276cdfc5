using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;

namespace Meshgate.Proxy.Observability;

/// <summary>
/// Writes the values of a TEXT line as UTF-8 into an <see cref="IBufferWriter{T}"/>: absent values as Envoy's '-'
/// placeholder. Shared by Istio's default format (<see cref="TextAccessLogFormatter"/>) and custom ones
/// (<see cref="CustomTextAccessLogFormatter"/>), so a field prints the same in both.
/// </summary>
internal static class TextOutput
{
    public static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    public static void WriteBytes(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        value.CopyTo(output.GetSpan(value.Length));
        output.Advance(value.Length);
    }

    public static void WriteString(IBufferWriter<byte> output, string? value)
    {
        if (AccessLogFields.IsAbsent(value))
        {
            WriteByte(output, (byte)'-');
            return;
        }

        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(value!.Length));
        output.Advance(Encoding.UTF8.GetBytes(value, span));
    }

    public static void WriteInt64(IBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(AccessLogFields.MaxInt64Length);
        value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        output.Advance(written);
    }

    public static void WriteEndPoint(IBufferWriter<byte> output, IPEndPoint? endPoint)
    {
        if (endPoint is null)
        {
            WriteByte(output, (byte)'-');
            return;
        }

        var span = output.GetSpan(AccessLogFields.MaxEndPointLength);
        var written = AccessLogFields.WriteEndPoint(endPoint, span);
        if (written == 0)
        {
            span[0] = (byte)'-';
            written = 1;
        }

        output.Advance(written);
    }
}
