using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// The real programs end-to-end tests drive (nginx, dnsmasq, curl). A missing one fails the test with the
/// fix, never skips it: ./test.sh installs them when run as root.
/// </summary>
internal static class ExternalTools
{
    /// <summary>The full path of <paramref name="tool"/>, searched in PATH and the sbin folders (not in a user's PATH).</summary>
    public static string Require(string tool)
    {
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/bin"]);
        foreach (var folder in folders)
        {
            var path = Path.Combine(folder, tool);
            if (File.Exists(path))
            {
                return path;
            }
        }

        Assert.Fail($"{tool} is not installed, and this test runs the real {tool}: run ./test.sh as root, which installs it (apt-get install {tool})");
        return null!;
    }
}
