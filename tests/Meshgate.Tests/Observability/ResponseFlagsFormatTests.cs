using Meshgate.Proxy.Observability;

using Xunit;

namespace Meshgate.Tests.Observability;

public sealed class ResponseFlagsFormatTests
{
    [Theory]
    [InlineData(ResponseFlags.FailedLocalHealthCheck, "LH")]
    [InlineData(ResponseFlags.NoHealthyUpstream, "UH")]
    [InlineData(ResponseFlags.UpstreamRequestTimeout, "UT")]
    [InlineData(ResponseFlags.LocalReset, "LR")]
    [InlineData(ResponseFlags.UpstreamRemoteReset, "UR")]
    [InlineData(ResponseFlags.UpstreamConnectionFailure, "UF")]
    [InlineData(ResponseFlags.UpstreamConnectionTermination, "UC")]
    [InlineData(ResponseFlags.UpstreamOverflow, "UO")]
    [InlineData(ResponseFlags.NoRouteFound, "NR")]
    [InlineData(ResponseFlags.DelayInjected, "DI")]
    [InlineData(ResponseFlags.FaultInjected, "FI")]
    [InlineData(ResponseFlags.RateLimited, "RL")]
    [InlineData(ResponseFlags.UnauthorizedExternalService, "UAEX")]
    [InlineData(ResponseFlags.RateLimitServiceError, "RLSE")]
    [InlineData(ResponseFlags.DownstreamConnectionTermination, "DC")]
    [InlineData(ResponseFlags.UpstreamRetryLimitExceeded, "URX")]
    [InlineData(ResponseFlags.StreamIdleTimeout, "SI")]
    [InlineData(ResponseFlags.InvalidEnvoyRequestHeaders, "IH")]
    [InlineData(ResponseFlags.DownstreamProtocolError, "DPE")]
    [InlineData(ResponseFlags.UpstreamMaxStreamDurationReached, "UMSDR")]
    [InlineData(ResponseFlags.ResponseFromCacheFilter, "RFCF")]
    [InlineData(ResponseFlags.NoFilterConfigFound, "NFCF")]
    [InlineData(ResponseFlags.DurationTimeout, "DT")]
    [InlineData(ResponseFlags.UpstreamProtocolError, "UPE")]
    [InlineData(ResponseFlags.NoClusterFound, "NC")]
    [InlineData(ResponseFlags.OverloadManagerTerminated, "OM")]
    [InlineData(ResponseFlags.DnsResolutionFailed, "DF")]
    [InlineData(ResponseFlags.DropOverload, "DO")]
    [InlineData(ResponseFlags.DownstreamRemoteReset, "DR")]
    public void ToShortString_SingleFlag_PrintsEnvoyShortCode(ResponseFlags flag, string expected)
    {
        Assert.Equal(expected, flag.ToShortString());
    }

    [Fact]
    public void ToShortString_None_PrintsDash()
    {
        Assert.Equal("-", ResponseFlags.None.ToShortString());
    }

    [Theory]
    [InlineData(ResponseFlags.UpstreamConnectionFailure | ResponseFlags.UpstreamRetryLimitExceeded, "UF,URX")]
    [InlineData(ResponseFlags.DownstreamConnectionTermination | ResponseFlags.UpstreamConnectionTermination, "UC,DC")]
    [InlineData(ResponseFlags.NoClusterFound | ResponseFlags.NoRouteFound, "NR,NC")]
    [InlineData(ResponseFlags.UpstreamRequestTimeout | ResponseFlags.UpstreamRetryLimitExceeded | ResponseFlags.NoHealthyUpstream, "UH,UT,URX")]
    [InlineData(ResponseFlags.DnsResolutionFailed | ResponseFlags.UpstreamConnectionFailure, "UF,DF")]
    public void ToShortString_Combination_PrintsInEnvoyOrderJoinedByComma(ResponseFlags flags, string expected)
    {
        Assert.Equal(expected, flags.ToShortString());
    }

    [Fact]
    public void ToShortString_EveryFlag_PrintsAllInEnvoyOrderThenMeshgates()
    {
        var all = Enum.GetValues<ResponseFlags>().Aggregate(ResponseFlags.None, static (sum, flag) => sum | flag);

        Assert.Equal(
            "LH,UH,UT,LR,UR,UF,UC,UO,NR,DI,FI,RL,UAEX,RLSE,DC,URX,SI,IH,DPE,UMSDR,RFCF,NFCF,DT,UPE,NC,OM,DF,DO,DR,SSRF,DFB",
            all.ToShortString());
    }

    [Fact]
    public void ToShortString_UndefinedBits_AreIgnored()
    {
        Assert.Equal("-", ((ResponseFlags)(1u << 31)).ToShortString());
        Assert.Equal("UF", (ResponseFlags.UpstreamConnectionFailure | (ResponseFlags)(1u << 31)).ToShortString());
    }

    [Fact]
    public void Format_FlagsInLine_ReplaceDashAfterResponseCode()
    {
        var entry = AccessLogSamples.Tls;
        entry.ResponseFlags = ResponseFlags.NoRouteFound;

        var line = AccessLogFormatter.Create(AccessLogEncoding.Text).Format(entry);

        Assert.StartsWith("[2024-01-11T21:09:42.835Z] \"- - -\" 0 NR - - \"-\" 839 ", line, StringComparison.Ordinal);
    }
}
