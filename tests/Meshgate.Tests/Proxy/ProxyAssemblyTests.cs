using Meshgate.Proxy.Observability;

using Xunit;

namespace Meshgate.Tests.Proxy;

public sealed class ProxyAssemblyTests
{
    [Fact]
    public void References_ProxyAssembly_NeverReferencesControlPlane()
    {
        var references = typeof(AccessLogEntry).Assembly.GetReferencedAssemblies().Select(static name => name.Name);

        Assert.DoesNotContain("Meshgate.ControlPlane", references);
    }

    [Fact]
    public void ProjectFile_ProxyProject_HasNoControlPlaneReference()
    {
        var project = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "src", "Meshgate.Proxy", "Meshgate.Proxy.csproj"));

        Assert.DoesNotContain("Meshgate.ControlPlane.csproj", project, StringComparison.Ordinal);
    }
}
