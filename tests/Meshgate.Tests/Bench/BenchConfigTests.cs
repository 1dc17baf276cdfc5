using Meshgate.Core.ProxyConfiguration;
using Xunit;

namespace Meshgate.Tests.Bench;

/// <summary>The benchmark's gateway configurations stay loadable as the model changes.</summary>
public class BenchConfigTests
{
    [Theory]
    [InlineData("bench/gateway.yaml", true)]
    [InlineData("bench/gateway-nolog.yaml", false)]
    public void Load_BenchGatewayConfig_IsConsistent(string file, bool logs)
    {
        var result = ProxyConfigLoader.Load(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, file)), file);

        Assert.Empty(result.Errors);
        Assert.Equal(logs, result.Config!.AccessLog is not null);
        Assert.Equal(2, result.Config.Listeners.Count);
    }
}
