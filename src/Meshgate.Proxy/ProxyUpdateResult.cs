namespace Meshgate.Proxy;

/// <summary>What <see cref="ProxyServer.UpdateAsync"/> did with a configuration.</summary>
/// <param name="Applied">
/// True when the configuration is now the current one. False means it was refused whole and the last good one still
/// serves (the NACK case).
/// </param>
/// <param name="Errors">
/// Why it was refused; or, when applied, the listeners that could not be reopened on their new address.
/// </param>
public sealed record ProxyUpdateResult(bool Applied, IReadOnlyList<string> Errors)
{
    public static ProxyUpdateResult Success { get; } = new(true, []);

    public static ProxyUpdateResult Refused(IReadOnlyList<string> errors) => new(false, errors);
}
