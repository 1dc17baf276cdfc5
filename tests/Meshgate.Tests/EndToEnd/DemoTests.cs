using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary><c>meshgate demo</c>, the README's first command, run as users run it: the whole walkthrough, real processes.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task Demo_WalksTheHttpAndHttpsSectionsInBothTabs_AndShowsWhatTheSeedShows()
    {
        ExternalTools.Require("curl");

        var (code, output) = await MeshgateProcess.RunAsync("", "demo", "--loopback", "--origin-address", "127.0.0.79", "--proxy-address", "127.0.0.74");

        Assert.True(code == 0, output);
        string[] expected =
        [
            "== The egress gateway's identity",
            "default         Cert Chain   ACTIVE   true",
            "ROOTCA          CA           ACTIVE   true",
            "== Egress gateway for HTTP traffic",
            "serviceentry.networking.istio.io/cnn created",
            "HTTP/1.1 301 Moved Permanently",
            "location: https://edition.cnn.com/politics",
            "HTTP/2 200",
            "virtualservice.networking.istio.io/direct-cnn-through-egress-gateway created",
            "\"GET /politics HTTP/2\" 301 - via_upstream - ",
            "\"127.0.0.79:80\" outbound|80||edition.cnn.com",
            "== Egress gateway for HTTPS traffic",
            "\"- - -\" 0 - - - \"-\" ",
            "\"127.0.0.79:443\" outbound|443||edition.cnn.com",
            "== Egress gateway for HTTP traffic (Gateway API)",
            "gateway.gateway.networking.k8s.io/cnn-egress-gateway created",
            "cnn-egress-gateway   istio",
            "httproute.gateway.networking.k8s.io/forward-cnn-from-egress-gateway created",
            "HTTP/1.1 301 Moved Permanently",
            "HTTP/2 200",
            "outbound|80||edition.cnn.com",
            " - default.forward-cnn-from-egress-gateway.0",
            "== Egress gateway for HTTPS traffic (Gateway API)",
            "tlsroute.gateway.networking.k8s.io/forward-cnn-from-egress-gateway created",
            "HTTP/2 200",
            "\"127.0.0.79:443\" outbound|443||edition.cnn.com",
            "Done: every flow left through an egress gateway, in both tabs",
        ];
        var position = 0;
        foreach (var text in expected)
        {
            var found = output.IndexOf(text, position, StringComparison.OrdinalIgnoreCase);
            Assert.True(found >= 0, $"\"{text}\" missing (after position {position}) in:\n{output}");
            position = found;
        }

        Assert.DoesNotContain("Connection established", output, StringComparison.Ordinal);
    }
}
