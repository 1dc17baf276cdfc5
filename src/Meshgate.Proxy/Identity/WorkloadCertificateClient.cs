using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Identity.V1;

namespace Meshgate.Proxy.Identity;

/// <summary>
/// Asks the mesh CA for this workload's certificate, as istio-agent does: a fresh ECDSA P-256 key made here (it never
/// leaves the process), a CSR for <see cref="Identity"/>, and the pod-bound token read anew from its file each time (it
/// is rotated there) as <c>authorization: Bearer</c>. The answer becomes secrets <c>default</c> and <c>ROOTCA</c>.
/// </summary>
public sealed class WorkloadCertificateClient(GrpcChannel channel, string identity, string tokenFile, MeshTrust? trust, TimeSpan requestedLifetime)
{
    /// <param name="rootBundle">The roots trusted besides the CA's own (<c>--ca-root-file</c>), fixed.</param>
    public WorkloadCertificateClient(GrpcChannel channel, string identity, string tokenFile, string? rootBundle, TimeSpan requestedLifetime)
        : this(channel, identity, tokenFile, string.IsNullOrWhiteSpace(rootBundle) ? null : new MeshTrust(rootBundle), requestedLifetime)
    {
    }

    /// <summary>The SPIFFE identity asked for: <c>spiffe://&lt;trustDomain&gt;/ns/&lt;ns&gt;/sa/&lt;sa&gt;</c>.</summary>
    public string Identity { get; } = identity;

    /// <exception cref="RpcException">The CA refused (the status says why) or cannot be reached.</exception>
    /// <exception cref="IOException">The token file cannot be read.</exception>
    public async Task<WorkloadSecrets> RequestAsync(CancellationToken cancellationToken)
    {
        var token = (await File.ReadAllTextAsync(tokenFile, cancellationToken).ConfigureAwait(false)).Trim();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(""), key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(new Uri(Identity));
        request.CertificateExtensions.Add(names.Build(critical: true));

        var client = new IstioCertificateService.IstioCertificateServiceClient(channel);
        var response = await client.CreateCertificateAsync(
            new IstioCertificateRequest { Csr = request.CreateSigningRequestPem(), ValidityDuration = (long)requestedLifetime.TotalSeconds },
            new Metadata { { "authorization", "Bearer " + token } },
            deadline: DateTime.UtcNow.AddSeconds(10),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.CertChain.Count == 0)
        {
            throw new RpcException(new Status(StatusCode.Internal, "the CA answered with no certificate"));
        }

        return Secrets(response.CertChain, key.ExportPkcs8PrivateKeyPem() + "\n");
    }

    /// <summary>The chain without its root as <c>default</c>; the mesh's roots in force (and the root of this chain) as <c>ROOTCA</c>.</summary>
    private WorkloadSecrets Secrets(IList<string> chain, string privateKey)
    {
        var root = chain[^1].Trim() + "\n";
        var presented = string.Concat(chain.Take(chain.Count > 1 ? chain.Count - 1 : 1).Select(c => c.Trim() + "\n"));
        using var leaf = X509Certificate2.CreateFromPem(chain[0]);
        var issued = leaf.GetNameInfo(X509NameType.UrlName, forIssuer: false);
        if (issued != Identity)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"the CA issued {issued}, not the identity asked for ({Identity})"));
        }

        // The CA's answer is the leaf, then the signing CA (the root itself when the root signs), up to the root.
        var signer = "";
        if (chain.Count > 1)
        {
            using var issuer = X509Certificate2.CreateFromPem(chain[1]);
            signer = Convert.ToHexStringLower(issuer.GetCertHash(HashAlgorithmName.SHA256));
        }

        return new WorkloadSecrets(
            new Secret { Name = Secret.Default, CertificateChain = presented, PrivateKey = privateKey },
            RootCa(trust, root),
            Identity,
            leaf.SerialNumber.ToLowerInvariant(),
            new DateTimeOffset(leaf.NotBefore.ToUniversalTime(), TimeSpan.Zero),
            new DateTimeOffset(leaf.NotAfter.ToUniversalTime(), TimeSpan.Zero))
        {
            Signer = signer,
            IssuerRoot = root,
        };
    }

    /// <summary>Secret <c>ROOTCA</c>: the roots in force, plus <paramref name="issuerRoot"/> when they lack it (the certificate's own root stays trusted while it serves).</summary>
    public static Secret RootCa(MeshTrust? trust, string issuerRoot)
    {
        var configured = trust?.Current.Roots;
        var bundle = configured is not null && !configured.Contains(issuerRoot.Trim(), StringComparison.Ordinal) ? configured.Trim() + "\n" + issuerRoot : configured ?? issuerRoot;
        return new Secret { Name = Secret.RootCa, TrustedCa = bundle };
    }
}
