using System.Text;

using Meshgate.Proxy.Capture;
using Meshgate.Proxy.Forwarding;

using Microsoft.Extensions.Primitives;

namespace Meshgate.Fuzz.Targets;

/// <summary>
/// Our checks on what Kestrel parsed from an HTTP/1.x head (Kestrel's own parser is not ours to fuzz): the request
/// target, the Transfer-Encoding values (one per input line), and the authority of an absolute-form target or Host.
/// None may throw, whatever the characters.
/// </summary>
public static class RequestHeadTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        var text = Encoding.Latin1.GetString(input);
        _ = Http1RequestChecks.HasInvalidTarget(text);
        _ = Http1RequestChecks.HasUnsupportedTransferCoding(new StringValues(text.Split('\n')));
        if (OriginalDestination.TryParse(text, defaultPort: 80, out var destination)
            && (string.IsNullOrEmpty(destination.Host) || destination.Port is <= 0 or > 65535))
        {
            throw new FuzzAssertionException($"accepted authority {destination}");
        }
    }
}
