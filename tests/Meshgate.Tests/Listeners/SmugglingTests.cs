using Xunit;

namespace Meshgate.Tests.Listeners;

/// <summary>
/// Request smuggling through an HTTP listener, the body-framing cases nginx, HAProxy and Envoy are tested against: a
/// request with two framings, obfuscated Transfer-Encoding, bad chunks, each followed on the same connection by
/// another request. Every row goes over a real socket to a running proxy in front of an origin that records the raw
/// bytes it gets (<see cref="SmugglingRig"/>). RFC 9112 §6.3: a request with both Content-Length and Transfer-Encoding
/// is refused (Envoy's <c>http1.content_length_and_chunked_not_allowed</c>); one whose final coding is not chunked gets
/// 400 and the connection closes; an invalid chunked body is an error. Whatever the proxy accepts it forwards re-framed,
/// so the origin never sees the client's framing.
/// </summary>
public sealed class SmugglingTests : IAsyncLifetime
{
    private const string Post = "POST /front HTTP/1.1\r\nHost: a\r\n";
    private const string Accepted = "POST /front host=a body=";
    private const string Smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";

    /// <summary>
    /// A chunk holding a whole request. Its size line is two hex digits and CRLF, four bytes: a parser that took
    /// <c>Content-Length: 4</c> for the body would read the smuggled request as the connection's next one.
    /// </summary>
    private static readonly string SmuggledChunk = $"{Smuggled.Length:x2}\r\n{Smuggled}\r\n";

    private SmugglingRig _rig = null!;

    public static TheoryData<string> Names => [.. Cases.Keys];

    private static Dictionary<string, SmugglingCase> Cases => new()
    {
        // Baselines: each framing alone is forwarded, and the next request is read where its body ends.
        ["content-length"] = new(Post + "Content-Length: 5\r\n\r\nhello" + SmugglingRig.ThenClose, [200, 200], [Accepted + "hello", SmugglingRig.Next]),
        ["chunked"] = new(Post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + SmugglingRig.ThenClose, [200, 200], [Accepted + "hello", SmugglingRig.Next]),
        ["chunked with a trailer"] = new(Post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n" + SmugglingRig.ThenClose, [200, 200], [Accepted + "hello", SmugglingRig.Next]),

        // CL.TE: by Content-Length the body holds a second request; by chunked it ends at "0" and the request follows.
        ["CL.TE"] = new(Post + $"Content-Length: {5 + Smuggled.Length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + Smuggled + SmugglingRig.Then, [400], []),

        // TE.CL: by chunked the body is one chunk holding a request; by Content-Length: 4 the request follows.
        ["TE.CL"] = new(Post + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" + SmuggledChunk + "0\r\n\r\n" + SmugglingRig.Then, [400], []),
        ["TE.CL, empty chunked body"] = new(Post + "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SmugglingRig.Then, [400], []),

        // TE.TE: a Transfer-Encoding one parser reads as chunked and another ignores, next to Content-Length: 4.
        ["TE.TE xchunked"] = new(TeCl("Transfer-Encoding: xchunked"), [400], []),
        ["TE.TE leading space in the value"] = new(TeCl("Transfer-Encoding:  chunked"), [400], []),
        ["TE.TE tab before the value"] = new(TeCl("Transfer-Encoding:\tchunked"), [400], []),
        ["TE.TE upper case"] = new(TeCl("Transfer-Encoding: CHUNKED"), [400], []),
        ["TE.TE chunked, identity"] = new(TeCl("Transfer-Encoding: chunked, identity"), [400], []),
        ["TE.TE quoted"] = new(TeCl("Transfer-Encoding: \"chunked\""), [400], []),
        ["TE.TE two fields, chunked last"] = new(TeCl("Transfer-Encoding: identity\r\nTransfer-Encoding: chunked"), [400], []),
        ["TE.TE two fields, chunked first"] = new(TeCl("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity"), [400], []),
        ["TE.TE folded value"] = new(TeCl("Transfer-Encoding: identity\r\n chunked"), [400], []),
        ["TE.TE folded into another field"] = new(TeCl("X-Padding: x\r\n Transfer-Encoding: chunked"), [400], []),
        ["TE.TE space before the colon"] = new(TeCl("Transfer-Encoding : chunked"), [400], []),
        ["TE.TE vertical tab"] = new(TeCl("Transfer-Encoding:\vchunked"), [400], []),

        // Transfer-Encoding without Content-Length: chunked must be the final coding (RFC 9112 §6.3 item 4).
        ["TE xchunked alone"] = new(Post + "Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + SmugglingRig.Then, [400], []),
        ["TE chunked, identity alone"] = new(Post + "Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + SmugglingRig.Then, [400], []),
        ["TE chunked after an empty list element"] = new(Post + "Transfer-Encoding: , chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + SmugglingRig.ThenClose, [200, 200], [Accepted + "hello", SmugglingRig.Next]),

        // Kestrel takes any list ending in chunked and decodes only the chunked layer, and the forwarder drops the field:
        // the origin would get gzip-coded (or still chunk-framed) bytes as a plain body. RFC 9112 §6.1: a coding the
        // server does not understand SHOULD get 501; §7: chunked is applied once. Like Envoy, nginx and Go, the proxy takes
        // only one "chunked" and answers anything else 501 and closes (Http1RequestChecks).
        ["TE gzip, chunked"] = new(Post + "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + SmugglingRig.Then, [501], []),
        ["TE chunked twice"] = new(Post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + SmugglingRig.Then, [501], []),

        // Chunk extensions are allowed and dropped (RFC 9112 §7.1.1); a bare LF inside one is not a line end
        // (CVE-2025-55315: Kestrel once ended the line there and read the rest as the next chunk).
        ["chunk extension"] = new(Post + "Transfer-Encoding: chunked\r\n\r\n1;foo=bar\r\na\r\n0\r\n\r\n" + SmugglingRig.ThenClose, [200, 200], [Accepted + "a", SmugglingRig.Next]),
        ["chunk extension, quoted value"] = new(Post + "Transfer-Encoding: chunked\r\n\r\n1;foo=\"b;r\"\r\na\r\n0\r\n\r\n" + SmugglingRig.ThenClose, [200, 200], [Accepted + "a", SmugglingRig.Next]),
        ["chunk extension with a bare LF"] = new(Post + "Transfer-Encoding: chunked\r\n\r\n2;\n" + SmuggledChunk + "0\r\n\r\n" + SmugglingRig.Then, [400], [], MayAbortUpstream: true),

        // Chunk sizes: 1*HEXDIG and nothing else (RFC 9112 §7.1).
        ["chunk size 0x1"] = new(BadChunk("0x1"), [400], [], MayAbortUpstream: true),
        ["chunk size -1"] = new(BadChunk("-1"), [400], [], MayAbortUpstream: true),
        ["chunk size +1"] = new(BadChunk("+1"), [400], [], MayAbortUpstream: true),
        ["chunk size with a trailing space"] = new(BadChunk("1 "), [400], [], MayAbortUpstream: true),
        ["chunk size with a leading space"] = new(BadChunk(" 1"), [400], [], MayAbortUpstream: true),
        ["chunk size empty"] = new(BadChunk(""), [400], [], MayAbortUpstream: true),
        ["chunk size not hex"] = new(BadChunk("zz"), [400], [], MayAbortUpstream: true),
        ["chunk size huge"] = new(BadChunk("fffffffffffffffff1"), [400], [], MayAbortUpstream: true),
        ["chunk size with a bare LF"] = new(Post + "Transfer-Encoding: chunked\r\n\r\n1\na\r\n0\r\n\r\n" + SmugglingRig.Then, [400], [], MayAbortUpstream: true),
        ["chunk longer than its size"] = new(Post + "Transfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n" + SmugglingRig.Then, [400], [], MayAbortUpstream: true),

        // Pipelining after an ambiguous request: the request behind it is never served, on this connection or upstream.
        ["pipelined after CL.TE"] = new(Post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\nGET /third HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", [400], []),
        ["pipelined after two Content-Lengths"] = new(Post + $"Content-Length: 0\r\nContent-Length: {Smuggled.Length}\r\n\r\n" + Smuggled + SmugglingRig.Then, [400], []),
    };

    public async Task InitializeAsync() => _rig = await SmugglingRig.StartAsync();

    public async Task DisposeAsync() => await _rig.DisposeAsync();

    [Theory]
    [MemberData(nameof(Names))]
    public Task Smuggling_AnsweredClosedAndExactlyTheDecidedRequestReachesTheOrigin(string name) => _rig.AssertAsync(name, Cases[name]);

    /// <summary>A request framed by Content-Length: 4 beside <paramref name="transferEncoding"/>, a smuggled request in its chunk.</summary>
    private static string TeCl(string transferEncoding) =>
        Post + "Content-Length: 4\r\n" + transferEncoding + "\r\n\r\n" + SmuggledChunk + "0\r\n\r\n" + SmugglingRig.Then;

    private static string BadChunk(string size) =>
        Post + "Transfer-Encoding: chunked\r\n\r\n" + size + "\r\na\r\n0\r\n\r\n" + SmugglingRig.Then;
}
