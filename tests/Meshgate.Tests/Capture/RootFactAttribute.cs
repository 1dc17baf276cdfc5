using Xunit;

namespace Meshgate.Tests.Capture;

/// <summary>
/// A fact that needs root (network namespaces, veth pairs, nftables). CI and the development machine run as root;
/// elsewhere the test is skipped with the reason, never passed.
/// </summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Skip = "needs root: it creates a network namespace, a veth pair and nftables rules; run the tests as root (CI does)";
        }
    }
}
