namespace Meshgate.Core.ProxyConfiguration;

/// <summary>What a secret must hold: a certificate chain with its key, a trusted CA, or both; PEM text.</summary>
internal static class SecretRules
{
    public static void Check(Secret secret, ConsistencyScope scope)
    {
        if (secret.CertificateChain is null && secret.PrivateKey is null && secret.TrustedCa is null)
        {
            scope.Error("", "holds none of certificateChain, privateKey and trustedCa");
            return;
        }

        if (secret.CertificateChain is not null && secret.PrivateKey is null)
        {
            scope.Error("privateKey", "required with certificateChain");
        }
        else if (secret.PrivateKey is not null && secret.CertificateChain is null)
        {
            scope.Error("certificateChain", "required with privateKey");
        }

        Pem(scope, "certificateChain", secret.CertificateChain);
        Pem(scope, "privateKey", secret.PrivateKey);
        Pem(scope, "trustedCa", secret.TrustedCa);
    }

    // RFC 7468: textual encodings start with a "-----BEGIN <label>-----" line.
    private static void Pem(ConsistencyScope scope, string field, string? text)
    {
        if (text is not null && !text.TrimStart().StartsWith("-----BEGIN ", StringComparison.Ordinal))
        {
            scope.Error(field, "expected PEM text starting with \"-----BEGIN \" (RFC 7468)");
        }
    }
}
