using Meshgate.Core.Routing;

using Xunit;

namespace Meshgate.Tests.Routing;

public class HostTableTests
{
    [Theory]
    [InlineData("edition.cnn.com", "edition.cnn.com", "")]
    [InlineData("edition.cnn.com:80", "edition.cnn.com", "80")]
    [InlineData("edition.cnn.com:", "edition.cnn.com", "")]
    [InlineData("127.0.0.1:18080", "127.0.0.1", "18080")]
    [InlineData("[::1]:8080", "[::1]", "8080")]
    [InlineData("[::1]", "[::1]", "")]
    [InlineData("::1", "::1", "")]
    [InlineData("", "", "")]
    public void SplitPort_Authority_HostAndPort(string authority, string host, string port)
    {
        var actualHost = HostTable.SplitPort(authority, out var actualPort);

        Assert.Equal(host, actualHost.ToString());
        Assert.Equal(port, actualPort.ToString());
    }

    [Fact]
    public void TryMatch_RepeatedPattern_FirstValueWins()
    {
        var table = new HostTable<string>([new("edition.cnn.com", "first"), new("EDITION.cnn.com", "second")]);

        Assert.Equal("first", table.Match("edition.cnn.com"));
    }

    [Fact]
    public void TryMatch_PortPatternsOnly_BareHostDoesNotMatchThem()
    {
        var table = new HostTable<string>([new("edition.cnn.com:8080", "port"), new("*.cnn.com:8080", "wild-port")]);

        Assert.Null(table.Match("edition.cnn.com"));
        Assert.Null(table.Match("edition.cnn.com:80"));
        Assert.Equal("port", table.Match("edition.cnn.com:8080"));
        Assert.Equal("wild-port", table.Match("www.cnn.com:8080"));
    }

    [Fact]
    public void TryMatch_EmptyTable_NothingMatches()
    {
        var table = new HostTable<string>([]);

        Assert.False(table.TryMatch("edition.cnn.com", out _));
        Assert.False(table.TryMatch("", out _));
    }
}
