using System.Text;
using Xunit;

namespace Meshgate.Tests.Listeners;

/// <summary>
/// Malformed HTTP/1.1 request lines and header sections on a running HTTP listener, sent as raw bytes over a real
/// socket, each followed on the same connection by another request. Every row asserts the statuses the client gets,
/// that the proxy closes the connection, and exactly what reached an origin that records the raw bytes it got
/// (<see cref="SmugglingRig"/>): nothing, or well-formed requests only. The answers are Kestrel's, which match Envoy's
/// for these (RFC 9112 §2.2, §3, §5).
/// </summary>
public sealed class MalformedRequestTests : IAsyncLifetime
{
    private const string Then = SmugglingRig.Then;
    private const string ThenClose = SmugglingRig.ThenClose;
    private const string Next = SmugglingRig.Next;

    private SmugglingRig _rig = null!;

    public static TheoryData<string> Names => [.. Cases.Keys];

    private static Dictionary<string, SmugglingCase> Cases => new()
    {
        // Request line (RFC 9112 §3). A recipient MAY split it on runs of whitespace, as Kestrel does for the doubled
        // space; an invalid target SHOULD get 400, never be corrected and served (§3.2, a bypass of filters before us).
        ["bad request line"] = new("GARBAGE\r\n\r\n" + Then, [400], []),
        ["unknown version"] = new("GET / HTTP/7.3\r\nHost: a\r\n\r\n" + Then, [505], []),
        ["space in the target"] = new("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n" + Then, [400], []),
        ["space in the query"] = new("GET /a?b c HTTP/1.1\r\nHost: a\r\n\r\n" + Then, [400], []),
        ["NUL in the target"] = new("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n" + Then, [400], []),
        ["two spaces before the version"] = new("GET /a  HTTP/1.1\r\nHost: a\r\n\r\n" + ThenClose, [200, 200], ["GET /a host=a body=", Next]),
        ["empty line before the request line"] = new("\r\nGET /a HTTP/1.1\r\nHost: a\r\n\r\n" + ThenClose, [200, 200], ["GET /a host=a body=", Next]),
        ["binary garbage"] = new("\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u00fc\u0003\u0003\r\n\r\n" + Then, [400], []),

        // Kestrel takes a target holding a CTL or '#', which the forwarder would send percent-encoded ("/a%09b",
        // "/a%01b", "/a%23b": a fragment turned into path). Envoy answers 400, and so does the proxy (Http1RequestChecks).
        ["tab in the target"] = new("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n" + Then, [400], []),
        ["control character in the target"] = new("GET /a\u0001b HTTP/1.1\r\nHost: a\r\n\r\n" + Then, [400], []),
        ["fragment in the target"] = new("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n" + Then, [400], []),

        // Line endings (RFC 9112 §2.2): a lone LF MAY end a line and Kestrel takes it; the request is forwarded with CRLF.
        // A lone CR is never a line end and is refused.
        ["bare LF ends the request line"] = new("GET /lf HTTP/1.1\nHost: a\r\n\r\n" + ThenClose, [200, 200], ["GET /lf host=a body=", Next]),
        ["bare LF ends the header lines"] = new("GET /lf HTTP/1.1\r\nHost: a\nX-Probe: b\n\n" + ThenClose, [200, 200], ["GET /lf host=a x-probe=b body=", Next]),
        ["bare CR in a header line"] = new("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n" + Then, [400], []),
        ["bare CR ends the request line"] = new("GET / HTTP/1.1\rHost: a\r\n\r\n" + Then, [400], []),

        // Field lines (RFC 9112 §5): obs-fold is refused with 400 (§5.2), as is whitespace before the colon (§5.1). NUL
        // in a value is refused (RFC 9110 §5.5); another CTL a recipient MAY pass on, and is forwarded as it came, as by Envoy.
        ["obsolete line folding"] = new("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n" + Then, [400], []),
        ["obsolete line folding with a tab"] = new("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n\tb\r\n\r\n" + Then, [400], []),
        ["folded first field line"] = new("GET / HTTP/1.1\r\n Host: a\r\n\r\n" + Then, [400], []),
        ["space before the colon"] = new("GET / HTTP/1.1\r\nHost : a\r\n\r\n" + Then, [400], []),
        ["tab before the colon"] = new("GET / HTTP/1.1\r\nHost: a\r\nX-A\t: b\r\n\r\n" + Then, [400], []),
        ["space in a field name"] = new("GET / HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n" + Then, [400], []),
        ["no colon"] = new("GET / HTTP/1.1\r\nHost: a\r\nX-A\r\n\r\n" + Then, [400], []),
        ["NUL in a field value"] = new("GET / HTTP/1.1\r\nHost: a\r\nX-Probe: a\0b\r\n\r\n" + Then, [400], []),
        ["NUL in a field name"] = new("GET / HTTP/1.1\r\nHost: a\r\nX-N\0ul: b\r\n\r\n" + Then, [400], []),
        ["non-ASCII in a field value"] = new("GET / HTTP/1.1\r\nHost: a\r\nX-Probe: caf\u00e9\r\n\r\n" + Then, [400], []),
        ["control character in a field value"] = new("GET /a HTTP/1.1\r\nHost: a\r\nX-Probe: a\u0001b\r\n\r\n" + ThenClose, [200, 200], ["GET /a host=a x-probe=a\\x01b body=", Next]),
        ["too many fields"] = new("GET / HTTP/1.1\r\nHost: a\r\n" + string.Concat(Enumerable.Range(0, 101).Select(i => $"X-{i}: v\r\n")) + "\r\n" + Then, [431], []),
        ["oversized header section"] = new("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + new string('a', 70 * 1024) + "\r\n\r\n" + Then, [431], []),
        ["header section under Envoy's 60 KiB"] = new("GET /big HTTP/1.1\r\nHost: a\r\nX-Big: " + new string('a', 50 * 1024) + "\r\n\r\n" + ThenClose, [200, 200], ["GET /big host=a body=", Next]),

        // Content-Length (RFC 9112 §6.3 item 5, RFC 9110 §8.6): 1*DIGIT. Several differing values, a list, or anything
        // else is an unrecoverable error: 400 and close. Leading zeros and surrounding whitespace are valid.
        ["two different content lengths"] = new("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!" + Then, [400], []),
        ["two equal content lengths"] = new("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello" + Then, [400], []),
        ["content length list"] = new("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!" + Then, [400], []),
        ["content length not a number"] = new("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5x\r\n\r\nhello" + Then, [400], []),
        ["negative content length"] = new("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\nhello" + Then, [400], []),
        ["content length in hex"] = new("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello" + Then, [400], []),
        ["content length with a decimal point"] = new("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5.0\r\n\r\nhello" + Then, [400], []),
        ["content length with leading zeros"] = new("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\nhello" + ThenClose, [200, 200], ["POST /a host=a body=hello", Next]),
        ["content length with whitespace"] = new("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length:  5 \r\n\r\nhello" + ThenClose, [200, 200], ["POST /a host=a body=hello", Next]),

        // A known difference from Envoy, nginx and HAProxy (which answer 400): Kestrel parses Content-Length with
        // Utf8Parser, which takes a sign, and hands the handler only the parsed value, so Meshgate cannot see it. What
        // this pins is that it is no smuggling vector through Meshgate: the origin gets one request re-framed with a
        // plain "Content-Length: 5" (the origin's strict parser checks it). A front end before Meshgate that ignored the
        // field would still disagree with it; the fix belongs in Kestrel (HttpRequestHeaders.AppendContentLength).
        ["content length with a plus sign"] = new("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello" + ThenClose, [200, 200], ["POST /a host=a body=hello", Next]),

        // Host (RFC 9112 §3.2): exactly one; more than one, or none in HTTP/1.1, is a 400.
        ["no host"] = new("GET / HTTP/1.1\r\n\r\n" + Then, [400], []),
        ["two hosts"] = new("GET / HTTP/1.1\r\nHost: a\r\nHost: good.test\r\n\r\n" + Then, [400], []),
        ["two equal hosts"] = new("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n" + Then, [400], []),
        ["host with a path"] = new("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n" + Then, [400], []),

        // Absolute form (RFC 9112 §3.2.2, RFC 9110 §7.2): the target's authority wins and replaces Host; the proxy routes
        // by it and sends it as the one Host upstream, as Envoy does.
        ["absolute form agreeing with host"] = new("GET http://good.test/abs HTTP/1.1\r\nHost: good.test\r\n\r\n" + ThenClose, [200, 200], ["GET /abs host=good.test body=", Next]),
        ["absolute form routes by its authority, not host"] = new("GET http://good.test/abs HTTP/1.1\r\nHost: a\r\n\r\n" + ThenClose, [200, 200], ["GET /abs host=good.test body=", Next]),
        ["absolute form with the default port"] = new("GET http://good.test:80/abs HTTP/1.1\r\nHost: a\r\n\r\n" + ThenClose, [200, 200], ["GET /abs host=good.test body=", Next]),
        ["absolute form to a host no route takes"] = new("GET http://elsewhere.test/abs HTTP/1.1\r\nHost: good.test\r\n\r\n" + ThenClose, [403, 200], [Next]),
    };

    public async Task InitializeAsync() => _rig = await SmugglingRig.StartAsync();

    public async Task DisposeAsync() => await _rig.DisposeAsync();

    [Theory]
    [MemberData(nameof(Names))]
    public Task Malformed_AnsweredClosedAndOnlyWellFormedRequestsReachTheOrigin(string name) => _rig.AssertAsync(name, Cases[name]);

    [Fact]
    public async Task H2cPrefaceThenGarbage_ClosedWithGoAwayNothingReachesTheOrigin()
    {
        var exchange = await _rig.ExchangeAsync(Encoding.Latin1.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff"));

        Assert.True(exchange.Closed, exchange.Raw);
        Assert.DoesNotContain("HTTP/1.1", exchange.Raw, StringComparison.Ordinal);
        var types = new List<int>();
        var answer = exchange.Bytes;
        for (var at = 0; at + 9 <= answer.Length; at += 9 + ((answer[at] << 16) | (answer[at + 1] << 8) | answer[at + 2]))
        {
            types.Add(answer[at + 3]);
        }

        Assert.Contains(7, types); // RFC 9113 §6.8: GOAWAY
        Assert.Empty(await _rig.ForwardedAsync());
    }
}
