using System.Net;
using Meshgate.Proxy.Upstream;
using Xunit;

namespace Meshgate.Tests.Upstream;

public sealed class HostsFileTests : IDisposable
{
    private readonly string _path = Path.GetTempFileName();

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void Parse_HostsFormat_AddressesByNameWithCommentsAndAliases()
    {
        var names = HostsFile.Parse("""
            # a comment
            127.0.0.1	localhost
            127.0.0.77 edition.cnn.com cnn   # aliases too
            ::1 localhost ip6-localhost
            not-an-ip example.com
            127.0.0.78 EDITION.cnn.com.
            """);

        Assert.Equal(["127.0.0.1", "::1"], names["localhost"].Select(a => a.ToString()));
        Assert.Equal(["127.0.0.77", "127.0.0.78"], names["edition.cnn.com"].Select(a => a.ToString()));
        Assert.Equal(["127.0.0.77"], names["CNN"].Select(a => a.ToString()));
        Assert.False(names.ContainsKey("example.com"));
    }

    [Fact]
    public void TryGet_FileChanged_ReadAgain()
    {
        var hosts = new HostsFile(_path);
        File.WriteAllText(_path, "127.0.0.77 edition.cnn.com\n");
        Assert.True(hosts.TryGet("edition.cnn.com", out var first));

        File.WriteAllText(_path, "127.0.0.99 edition.cnn.com other.example\n");
        File.SetLastWriteTimeUtc(_path, DateTime.UtcNow.AddSeconds(5)); // a new stamp even on a coarse clock

        Assert.True(hosts.TryGet("edition.cnn.com", out var second));
        Assert.Equal(IPAddress.Parse("127.0.0.77"), Assert.Single(first));
        Assert.Equal(IPAddress.Parse("127.0.0.99"), Assert.Single(second));
        Assert.True(hosts.TryGet("other.example", out _));
    }

    [Fact]
    public void TryGet_MissingFile_NothingFound()
    {
        File.Delete(_path);

        Assert.False(new HostsFile(_path).TryGet("localhost", out _));
    }
}

public sealed class SystemLookupOverrideTests : IDisposable
{
    private readonly string _file = Path.GetTempFileName();

    public void Dispose() => File.Delete(_file);

    [Fact]
    public async Task TheOverrideFileAnswersBeforeTheSystemResolver()
    {
        await File.WriteAllTextAsync(_file, "127.0.0.77 edition.cnn.com\n");
        var lookup = new SystemLookup(new HostsFile(_file));
        var answer = await lookup.LookupAsync("edition.cnn.com", CancellationToken.None);
        Assert.Equal("127.0.0.77", Assert.Single(answer.Addresses).ToString());
        Assert.StartsWith(_file + ", then the system resolver", lookup.Description, StringComparison.Ordinal);

        // Names the file does not list still go to the system resolver.
        var localhost = await lookup.LookupAsync("localhost", CancellationToken.None);
        Assert.NotEmpty(localhost.Addresses);
    }
}
