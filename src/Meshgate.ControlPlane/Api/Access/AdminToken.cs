using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Meshgate.ControlPlane.Identity;

namespace Meshgate.ControlPlane.Api.Access;

/// <summary>
/// The resource API's credential: a random bearer token created at the first start in <c>DATA/admin-token</c> (0600)
/// and kept across restarts, so a kubeconfig written once stays valid. It is compared in constant time and never logged.
/// </summary>
public sealed class AdminToken
{
    public const string FileName = "admin-token";

    private const string Scheme = "Bearer ";

    private AdminToken(string value)
    {
        Value = value;
    }

    /// <summary>The token itself (what a kubeconfig's <c>user.token</c> carries).</summary>
    public string Value { get; }

    /// <summary>Reads <c>DATA/admin-token</c>, creating it (32 random bytes, base64url) when it is missing or empty.</summary>
    public static AdminToken LoadOrCreate(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path) && SecretFile.Read(path).Trim() is { Length: > 0 } existing)
        {
            foreach (var c in existing)
            {
                if (c is < '!' or > '~')
                {
                    throw new AdminTokenException($"{Path.GetFullPath(path)} holds a character a bearer token cannot carry; delete the file to make a new token");
                }
            }

            return new AdminToken(existing);
        }

        var token = Base64Url(RandomNumberGenerator.GetBytes(32));
        SecretFile.Write(path, token + "\n");
        return new AdminToken(token);
    }

    /// <summary>
    /// Whether an <c>Authorization</c> header value is <c>Bearer TOKEN</c> (the scheme in any case, as kube-apiserver
    /// reads it); the token is compared in constant time.
    /// </summary>
    public bool Accepts(string? authorization)
    {
        if (authorization is null || authorization.Length != Scheme.Length + Value.Length
            || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(
            MemoryMarshal.AsBytes(authorization.AsSpan(Scheme.Length)), MemoryMarshal.AsBytes(Value.AsSpan()));
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary><c>DATA/admin-token</c> cannot be used as it is (the message says why and how to fix it).</summary>
public sealed class AdminTokenException(string message) : Exception(message);
