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
        var virtuals = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? capture = null;
        for (var i = 0; i < listeners.Count; i++)
        {
            if (listeners[i] is { BindToPort: true } l && IsCapture(l))
            {
                capture ??= l.Name;
            }
        }

        for (var i = 0; i < listeners.Count; i++)
        {
            var listener = listeners[i];
            var scope = ConsistencyScope.For(errors, "listener", listener.Name, "listeners", i);
            if (!Names.IsIpAddress(listener.Address))
            {
                scope.Error("address", $"\"{listener.Address}\" is not an IP address; a listener binds an address such as 127.0.0.1 or 0.0.0.0");
            }

            // Virtual listeners bind nothing, so they share ports with bound ones freely; two of them on one address
            // and port would make the capture listener's choice ambiguous.
            var taken = listener.BindToPort ? bound : virtuals;
            if (Names.CheckPort(listener.Port) is { } portError)
            {
                scope.Error("port", portError);
            }
            else if (!taken.TryAdd(listener.Endpoint, listener.Name))
            {
                scope.Error("port", listener.BindToPort
                    ? $"{listener.Endpoint} is already bound by listener \"{bound[listener.Endpoint]}\""
                    : $"{listener.Endpoint} is already the address of virtual listener \"{virtuals[listener.Endpoint]}\"");
            }

            if (listener.ExplicitHttpProxy && listener.Protocol != ListenerProtocol.Http)
            {
                scope.Error("explicitHttpProxy", $"only an HTTP listener can be an explicit HTTP proxy (protocol is {Name(listener.Protocol)})");
            }

            if (listener.UseOriginalDestination && listener.Protocol != ListenerProtocol.Tcp)
            {
                scope.Error("useOriginalDestination", $"only a TCP listener captures connections by their original destination (protocol is {Name(listener.Protocol)})");
            }

            if (listener.ExplicitHttpProxy && listener.UseOriginalDestination)
            {
                scope.Error("useOriginalDestination", "a capture listener is either an explicit HTTP proxy or transparent (useOriginalDestination); set one");
            }

            if (!listener.BindToPort && IsCapture(listener))
            {
                scope.Error("bindToPort", $"a capture listener ({(listener.ExplicitHttpProxy ? "explicitHttpProxy" : "useOriginalDestination")}) must bind its port; set bindToPort: true");
            }
            else if (!listener.BindToPort && capture is null)
            {
                scope.Error("bindToPort", "a virtual listener (bindToPort: false) gets traffic only from a capture listener, and the snapshot has none; add a listener with explicitHttpProxy or useOriginalDestination, or set bindToPort: true");
            }

            // A flag on the wrong protocol is reported above; the chains are then checked as the protocol's own.
            if (listener.ExplicitHttpProxy && listener.Protocol == ListenerProtocol.Http || listener.UseOriginalDestination && listener.Protocol == ListenerProtocol.Tcp)
            {
                CaptureChains(listener, scope, references);
            }
            else
            {
                Chains(listener, scope, references);
            }
        }
    }

    /// <summary>True for a sidecar's port 15001: it hands what it accepts to virtual listeners.</summary>
    public static bool IsCapture(Listener listener) => listener.ExplicitHttpProxy || listener.UseOriginalDestination;

    /// <summary>
    /// A capture listener routes by destination to virtual listeners; its only chain is the optional
    /// <see cref="Listener.DefaultFilterChain"/>: the cluster for destinations without a virtual listener
    /// (Istio's PassthroughCluster for ALLOW_ANY, BlackHoleCluster for REGISTRY_ONLY, or any cluster).
    /// </summary>
    private static void CaptureChains(Listener listener, ConsistencyScope scope, References references)
    {
        if (!listener.FilterChains.IsEmpty)
        {
            scope.Error("filterChains", "a capture listener hands connections to the virtual listener of their destination; put the cluster for other destinations in defaultFilterChain.cluster");
        }

        if (listener.DefaultFilterChain is not { } fallback)
        {
            return;
        }

        if (fallback.Cluster is null || fallback.RouteTable is not null || fallback.Tls is not null || !fallback.ServerNames.IsEmpty)
        {
            scope.Error("defaultFilterChain", "a capture listener's default chain sets only cluster (PassthroughCluster, BlackHoleCluster or another cluster) for destinations without a virtual listener");
        }

        references.Cluster(scope, "defaultFilterChain.cluster", fallback.Cluster);
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
