using Meshgate.Core.Validation;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// Listeners bind distinct IP addresses and ports, each connection can reach exactly one filter chain, and each chain
/// leads to a route table or cluster that exists, with a destination its protocol can serve.
/// </summary>
internal static class ListenerRules
{
    public static void Check(EquatableArray<Listener> listeners, List<ConsistencyError> errors, References references)
    {
        var bound = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < listeners.Count; i++)
        {
            var listener = listeners[i];
            var scope = ConsistencyScope.For(errors, "listener", listener.Name, $"listeners[{i}]");
            if (!Names.IsIpAddress(listener.Address))
            {
                scope.Error("address", $"\"{listener.Address}\" is not an IP address; a listener binds an address such as 127.0.0.1 or 0.0.0.0");
            }

            if (Names.CheckPort(listener.Port) is { } portError)
            {
                scope.Error("port", portError);
            }
            else if (!bound.TryAdd(listener.Endpoint, listener.Name))
            {
                scope.Error("port", $"{listener.Endpoint} is already bound by listener \"{bound[listener.Endpoint]}\"");
            }

            if (listener.ExplicitHttpProxy && listener.Protocol != ListenerProtocol.Http)
            {
                scope.Error("explicitHttpProxy", $"only an HTTP listener can be an explicit HTTP proxy (protocol is {Name(listener.Protocol)})");
            }

            Chains(listener, scope, references);
        }
    }

    private static void Chains(Listener listener, ConsistencyScope scope, References references)
    {
        if (listener.FilterChains.IsEmpty && listener.DefaultFilterChain is null)
        {
            scope.Error("filterChains", "no filter chains and no defaultFilterChain; add at least one");
            return;
        }

        // Only TLS listeners choose a chain (by SNI); the others can use just one.
        if (listener.Protocol != ListenerProtocol.Tls && listener.FilterChains.Count + (listener.DefaultFilterChain is null ? 0 : 1) > 1)
        {
            scope.Error("filterChains", $"a {Name(listener.Protocol)} listener uses a single filter chain (only TLS listeners choose one by SNI); keep one");
        }

        var serverNames = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        int? catchAll = null;
        for (var i = 0; i < listener.FilterChains.Count; i++)
        {
            var chain = listener.FilterChains[i];
            var path = $"filterChains[{i}]";
            Chain(listener, chain, scope, path, references);
            if (listener.Protocol != ListenerProtocol.Tls)
            {
                continue;
            }

            if (chain.ServerNames.IsEmpty)
            {
                if (catchAll is { } first)
                {
                    scope.Error(path + ".serverNames", $"matches every server name, as filterChains[{first}] does; give it serverNames, or make it the defaultFilterChain");
                }

                catchAll ??= i;
            }

            for (var j = 0; j < chain.ServerNames.Count; j++)
            {
                var name = chain.ServerNames[j];
                if (Names.CheckWildcardHost(name) is { } error)
                {
                    scope.Error($"{path}.serverNames[{j}]", error);
                }
                else if (!serverNames.TryAdd(name, i))
                {
                    scope.Error($"{path}.serverNames[{j}]", $"\"{name}\" is already matched by filterChains[{serverNames[name]}]");
                }
            }
        }

        if (listener.DefaultFilterChain is { } fallback)
        {
            Chain(listener, fallback, scope, "defaultFilterChain", references);
            if (!fallback.ServerNames.IsEmpty)
            {
                scope.Error("defaultFilterChain.serverNames", "the default chain takes connections no server name matched; remove serverNames");
            }
        }
    }

    private static void Chain(Listener listener, FilterChain chain, ConsistencyScope scope, string path, References references)
    {
        if (chain.RouteTable is not null && chain.Cluster is not null)
        {
            scope.Error(path, "sets both routeTable and cluster; set one");
        }
        else if (chain.RouteTable is null && chain.Cluster is null)
        {
            scope.Error(path, "sets neither routeTable nor cluster; set one");
        }

        if (listener.Protocol != ListenerProtocol.Tls && !chain.ServerNames.IsEmpty && path != "defaultFilterChain")
        {
            scope.Error(path + ".serverNames", $"only a TLS listener matches server names (protocol is {Name(listener.Protocol)})");
        }

        switch (listener.Protocol)
        {
            case ListenerProtocol.Http when chain.Cluster is not null:
                scope.Error(path + ".cluster", "an HTTP listener routes requests with a routeTable; relay bytes to a cluster from a TCP or TLS listener");
                break;
            case ListenerProtocol.Http when chain.Tls is not null:
                scope.Error(path + ".tls", "an HTTP listener reads plaintext; terminate TLS on a TLS listener");
                break;
            case ListenerProtocol.Tls when chain.RouteTable is not null && chain.Tls is null:
                scope.Error(path + ".routeTable", "HTTP cannot be routed inside TLS that is passed through; terminate it with tls, or send the connection to a cluster");
                break;
            case ListenerProtocol.Tcp when chain.RouteTable is not null:
                scope.Error(path + ".routeTable", "a TCP listener relays bytes to a cluster; route HTTP on an HTTP listener");
                break;
        }

        references.RouteTable(scope, path + ".routeTable", chain.RouteTable);
        references.Cluster(scope, path + ".cluster", chain.Cluster);
        if (chain.Tls is { } tls)
        {
            if (tls.Mode is TlsMode.Simple or TlsMode.Mutual && tls.CertificateSecret is null)
            {
                scope.Error(path + ".tls.certificateSecret", $"required for mode {(tls.Mode == TlsMode.Simple ? "SIMPLE" : "MUTUAL")} (the certificate the proxy presents)");
            }

            if (tls.Mode == TlsMode.Mutual && tls.CaSecret is null)
            {
                scope.Error(path + ".tls.caSecret", "required for mode MUTUAL (the CA that verifies client certificates)");
            }

            references.CertificateSecret(scope, path + ".tls.certificateSecret", tls.EffectiveCertificateSecret, defaulted: tls.CertificateSecret is null);
            references.CaSecret(scope, path + ".tls.caSecret", tls.EffectiveCaSecret, defaulted: tls.CaSecret is null);
        }
    }

    private static string Name(ListenerProtocol protocol) => protocol switch
    {
        ListenerProtocol.Http => "HTTP",
        ListenerProtocol.Tls => "TLS",
        _ => "TCP",
    };
}
