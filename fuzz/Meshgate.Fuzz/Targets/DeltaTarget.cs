using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Fuzz.Targets;

/// <summary>
/// A delta as a proxy receives it: read and applied to a running snapshot (<see cref="ProxyConfigDelta.Apply"/>), then
/// the result checked as the discovery client checks it (<see cref="ProxyConfigValidator.Validate(ProxyConfig, ProxyConfig?)"/>).
/// Bad input is a result with errors, never an exception.
/// </summary>
public static class DeltaTarget
{
    // The snapshot deltas apply to (version "base-1"): every kind of object, so puts and removes have names to hit.
    private const string BaseJson = """
        {"version":"base-1","listeners":[
          {"name":"http","address":"127.0.0.1","port":18080,"protocol":"HTTP","defaultFilterChain":{"routeTable":"http.18080"}},
          {"name":"tls","address":"127.0.0.1","port":18443,"protocol":"TLS","filterChains":[
            {"name":"a.example","serverNames":["a.example"],"cluster":"outbound|443||a.example"}]}],
         "routeTables":[{"name":"http.18080","virtualHosts":[
           {"name":"a.example:80","domains":["a.example"],"routes":[{"forward":{"clusters":[{"name":"outbound|80||a.example","weight":100}]}}]},
           {"name":"b.example:80","domains":["b.example"],"routes":[{"forward":{"clusters":[{"name":"outbound|80||a.example","weight":100}]}}]}]}],
         "clusters":[
           {"name":"outbound|80||a.example","discovery":"STRICT_DNS","connectTimeout":"10s","endpoints":[{"address":"a.example","port":80}]},
           {"name":"outbound|443||a.example","discovery":"STRICT_DNS","connectTimeout":"10s","endpoints":[{"address":"a.example","port":443}]}]}
        """;

    private static readonly Lazy<ProxyConfig> Base = new(() =>
    {
        var loaded = ProxyConfigLoader.LoadJson(System.Text.Encoding.UTF8.GetBytes(BaseJson), "delta base");
        return loaded.Config ?? throw new InvalidOperationException($"the delta target's base snapshot is invalid: {string.Join("; ", loaded.Errors)}");
    });

    public static void Run(ReadOnlySpan<byte> input)
    {
        var current = Base.Value;
        var made = ProxyConfigDelta.Apply(current, input);
        if ((made.Config is null) == (made.Errors.Count == 0))
        {
            throw new FuzzAssertionException($"a delta result {(made.Config is null ? "missing without" : "given with")} errors");
        }

        if (made.Config is { } config)
        {
            _ = ProxyConfigValidator.Validate(config, current);
        }
    }
}
