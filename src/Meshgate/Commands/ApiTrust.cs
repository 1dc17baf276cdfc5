using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Meshgate.Commands;

/// <summary>
/// Checks the resource API's certificate against a kubeconfig's certificate authority only (custom root trust, as
/// kubectl's <c>certificate-authority-data</c>): the chain must end at one of those roots and the name must match.
/// </summary>
public static class ApiTrust
{
    /// <summary>Null when trusted, else why not (for the error message).</summary>
    public static string? Check(X509Certificate2? certificate, X509Certificate2Collection? intermediates, SslPolicyErrors errors, X509Certificate2Collection authority)
    {
        if (certificate is null)
        {
            return "the server sent no certificate";
        }

        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return $"its certificate ({certificate.Subject}) does not name the address connected to";
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (intermediates is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(intermediates);
        }

        if (chain.Build(certificate))
        {
            return null;
        }

        var reasons = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        return $"its certificate ({certificate.Subject}, issued by {certificate.Issuer}) does not chain to it{(reasons.Length > 0 ? ": " + reasons : "")}";
    }
}
