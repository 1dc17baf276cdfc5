using System.Text.RegularExpressions;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>A mesh of its own whose workload certificates live 4 s, so that they rotate every 2 s or so.</summary>
public sealed class RotatingSeedMesh() : SeedMesh("127.0.0.82", "127.0.0.73", ["--workload-cert-ttl", "4s"]);

/// <summary>
/// Rotation under load: with 4-second certificates, requests keep flowing from the sleep sidecar to the egress gateway
/// over ISTIO_MUTUAL (Istio's TLS-origination page) while both proxies replace their certificates several times, and
/// not one request fails.
/// </summary>
public sealed partial class CertificateRotationTests(RotatingSeedMesh mesh) : IClassFixture<RotatingSeedMesh>
{
    [Fact]
    public async Task ShortLivedCertificates_RotateUnderLoad_NoRequestFails()
    {
        foreach (var file in SeedMesh.TlsOriginationPage)
        {
            await mesh.CliAsync("apply", "-f", Path.Combine(TestPaths.TestData, "IstioDocs", file));
        }

        await mesh.WaitSyncedAsync();
        var rotationsBefore = await RotationsAsync();

        // Bounded load: batches of 20 requests on one connection to the sidecar, for 10 s or 20,000 requests at most (the
        // time bound is the one that applies: the rotations below need the load to span several certificate lifetimes).
        var codes = new List<string>();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var urls = Enumerable.Range(0, 20).SelectMany(_ => new[] { "-o", "/dev/null", "http://edition.cnn.com/politics" }).ToArray();
        while (DateTime.UtcNow < until && codes.Count < 20000)
        {
            var (code, output) = await mesh.CurlAsync(["-s", "-w", "%{http_code}\\n", .. urls]);
            Assert.True(code == 0, output);
            codes.AddRange(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }

        var failed = codes.Where(c => c != "200").ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} of {codes.Count} requests failed: {string.Join(',', failed.Distinct())}");
        var rotationsAfter = await RotationsAsync();
        foreach (var (pod, count) in rotationsAfter)
        {
            // At least three new certificates each while the load ran (one every ~1.6-2 s).
            Assert.True(count - rotationsBefore.GetValueOrDefault(pod) >= 3, $"{pod} put {count - rotationsBefore.GetValueOrDefault(pod)} certificates in force during the load");
        }

        Assert.Equal(2, rotationsAfter.Count);
    }

    /// <summary>How many certificates each proxy has put in force so far, from its log.</summary>
    private async Task<Dictionary<string, int>> RotationsAsync()
    {
        var counts = new Dictionary<string, int>();
        foreach (var (selector, ns) in new[] { ("istio=egressgateway", "istio-system"), ("app=sleep", "default") })
        {
            var log = await mesh.CliAsync("logs", "-l", selector, "-n", ns, "--tail", "100000");
            counts[selector] = InForce().Matches(log).Count;
        }

        return counts;
    }

    [GeneratedRegex("identity: certificate for spiffe://cluster.local/ns/[a-z-]+/sa/[a-z-]+ in force")]
    private static partial Regex InForce();
}
