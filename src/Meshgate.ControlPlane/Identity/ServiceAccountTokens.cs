using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Meshgate.ControlPlane.Identity;

/// <summary>
/// Credentials bound to a pod, as Kubernetes' projected ServiceAccount tokens are (TokenRequest with a
/// <c>boundObjectRef</c>): an ES256 JWT naming the namespace, the service account, and the pod's name and uid, signed
/// with a key kept in <c>DATA/ca</c> (0600). A proxy presents it to ask for its certificate; it proves nothing once its
/// pod is deleted (<see cref="WorkloadEntitlement"/> checks the pod). JWTs are made and checked with
/// Microsoft.IdentityModel, never by hand.
/// </summary>
public sealed class ServiceAccountTokens : IDisposable
{
    public const string KeyFile = "sa-signing-key.pem";

    /// <summary>The audience Istio's agent asks for and its CA requires.</summary>
    public const string CaAudience = "istio-ca";

    public const string Issuer = "https://kubernetes.default.svc.cluster.local";

    private readonly ECDsa _key;
    private readonly ECDsaSecurityKey _securityKey;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly TimeProvider _time;

    private ServiceAccountTokens(ECDsa key, TimeProvider time)
    {
        _key = key;
        _securityKey = new ECDsaSecurityKey(key)
        {
            KeyId = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16],
            // The library caches signature providers by key id across instances; a control plane restarted in the
            // same process would get one holding the disposed key. Tokens are checked once per CSR: no cache needed.
            CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false },
        };
        _time = time;
    }

    /// <summary>The signing key in <paramref name="directory"/>, created on first use.</summary>
    public static ServiceAccountTokens Load(string directory, TimeProvider time)
    {
        var path = Path.Combine(directory, KeyFile);
        var key = ECDsa.Create();
        if (File.Exists(path))
        {
            try
            {
                key.ImportFromPem(SecretFile.Read(path));
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                key.Dispose();
                throw new InvalidDataException($"{path} is not a PEM ECDSA key ({e.Message}); move it away to create a new one (tokens issued so far stop working)", e);
            }
        }
        else
        {
            key.GenerateKey(ECCurve.NamedCurves.nistP256);
            SecretFile.Write(path, key.ExportPkcs8PrivateKeyPem() + "\n");
        }

        return new ServiceAccountTokens(key, time);
    }

    /// <summary>A token for <paramref name="pod"/>'s service account, bound to that pod, for <paramref name="audiences"/>.</summary>
    public BoundToken Issue(BoundPod pod, TimeSpan lifetime, IReadOnlyList<string> audiences)
    {
        var now = _time.GetUtcNow();
        var expires = now + lifetime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(_securityKey, SecurityAlgorithms.EcdsaSha256),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = $"system:serviceaccount:{pod.Namespace}:{pod.ServiceAccount}",
                ["jti"] = Guid.NewGuid().ToString(),
                ["kubernetes.io"] = new Dictionary<string, object>
                {
                    ["namespace"] = pod.Namespace,
                    ["pod"] = new Dictionary<string, object> { ["name"] = pod.Name, ["uid"] = pod.Uid },
                    ["serviceaccount"] = new Dictionary<string, object> { ["name"] = pod.ServiceAccount },
                },
            },
        };
        foreach (var audience in audiences)
        {
            descriptor.Audiences.Add(audience);
        }

        return new BoundToken(_handler.CreateToken(descriptor), expires);
    }

    /// <summary>The pod a token is bound to, when its signature, issuer, audience and lifetime check out; else why not.</summary>
    public async Task<(BoundPod? Pod, string? Refusal)> ValidateAsync(string token, string audience)
    {
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = audience,
            IssuerSigningKey = _securityKey,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            ClockSkew = TimeSpan.FromSeconds(30),
            LifetimeValidator = (notBefore, expires, _, p) =>
            {
                var now = _time.GetUtcNow().UtcDateTime;
                return expires is { } e && now <= e + p.ClockSkew && (notBefore is not { } n || n - p.ClockSkew <= now);
            },
        };
        var result = await _handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return (null, Describe(result.Exception));
        }

        try
        {
            using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(jwt.EncodedPayload));
            var kubernetes = payload.RootElement.GetProperty("kubernetes.io");
            var pod = kubernetes.GetProperty("pod");
            return (new BoundPod(
                kubernetes.GetProperty("namespace").GetString()!,
                kubernetes.GetProperty("serviceaccount").GetProperty("name").GetString()!,
                pod.GetProperty("name").GetString()!,
                pod.GetProperty("uid").GetString()!), null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return (null, "the token is not bound to a pod (no kubernetes.io pod claims)");
        }
    }

    private static string Describe(Exception? e) => e switch
    {
        SecurityTokenExpiredException or SecurityTokenInvalidLifetimeException or SecurityTokenNotYetValidException => "the token has expired (or is not valid yet)",
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "the token's signature does not verify (not issued by this control plane)",
        SecurityTokenInvalidAudienceException => $"the token is not for audience {CaAudience}",
        SecurityTokenInvalidIssuerException => "the token's issuer is not this control plane",
        SecurityTokenMalformedException or ArgumentException => "the token is not a JWT",
        _ => "the token is invalid" + (e is null ? "" : $" ({e.GetType().Name})"),
    };

    public void Dispose() => _key.Dispose();
}

/// <summary>The pod a token is bound to: its namespace, service account, name and uid.</summary>
public sealed record BoundPod(string Namespace, string ServiceAccount, string Name, string Uid);

/// <summary>A signed token and when it expires.</summary>
public sealed record BoundToken(string Token, DateTimeOffset Expires)
{
    /// <summary>Tokens never print.</summary>
    public override string ToString() => $"BoundToken {{ expires {Expires:O} }}";
}
