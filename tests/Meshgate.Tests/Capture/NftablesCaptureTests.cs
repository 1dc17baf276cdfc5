using Meshgate.Proxy.Capture;
using Xunit;

namespace Meshgate.Tests.Capture;

public class NftablesCaptureTests
{
    [Fact]
    public void RuleSet_ExcludedPorts_RedirectAllOtherOutboundTcpExceptMarkedAndLoopback()
    {
        var rules = NftablesCapture.RuleSet(new CaptureRules(15001, 1337, [22, 15021]));

        Assert.Equal("""
            table inet meshgate_capture
            delete table inet meshgate_capture
            table inet meshgate_capture {
            	chain output {
            		type nat hook output priority -100; policy accept;
            		meta mark 1337 return
            		ip daddr 127.0.0.0/8 return
            		ip6 daddr ::1 return
            		tcp dport { 22, 15021 } return
            		meta nfproto ipv4 meta l4proto tcp redirect to :15001
            	}
            }

            """.ReplaceLineEndings("\n"), rules);
    }

    [Fact]
    public void RuleSet_Ipv6CaptureListener_RedirectsBothFamilies()
    {
        Assert.Contains("\t\tmeta l4proto tcp redirect to :15001\n", NftablesCapture.RuleSet(new CaptureRules(15001, 1337, [], IncludeIpv6: true)), StringComparison.Ordinal);
    }

    [Fact]
    public void RuleSet_NoExcludedPorts_NoPortRule()
    {
        Assert.DoesNotContain("dport", NftablesCapture.RuleSet(new CaptureRules(15001, 1337, [])), StringComparison.Ordinal);
    }
}
