using System.Diagnostics;

using Meshgate.Core.ProxyConfiguration;

using Xunit;
using Xunit.Abstractions;

namespace Meshgate.Tests.ProxyConfiguration;

/// <summary>
/// Differential tests of <see cref="ProxyConfigValidator.Validate(ProxyConfig, ProxyConfig?)"/>: snapshots made from a
/// consistent one as a delta makes them (objects not in the delta stay the same instances) must get exactly the errors,
/// in the same order and at the same places, that checking a fresh copy of the whole snapshot gives.
/// </summary>
public class IncrementalValidationTests(ITestOutputHelper output)
{
    private const string Certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    private const string Key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Check_RandomDeltas_SameErrorsAsTheFullCheckOfAFreshCopy(int seed)
    {
        var random = new Random(seed);
        var current = Generated(300);
        Assert.Empty(ProxyConfigValidator.Check(current));

        var (steps, consistent) = (1000, 0);
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (var step = 0; step < steps; step++)
        {
            var next = current;
            var applied = new List<string>();
            for (var n = random.Next(1, 4); n > 0; n--)
            {
                var (what, edited) = Edit(next, random);
                applied.Add(what);
                next = edited;
            }

            var expected = ProxyConfigValidator.Check(next with { });
            var actual = ProxyConfigValidator.Check(next, current);
            Assert.True(expected.SequenceEqual(actual), $"seed {seed}, step {step} ({string.Join(", ", applied)}):\nfull:\n  {string.Join("\n  ", expected)}\nincremental:\n  {string.Join("\n  ", actual)}");
            if (step % 10 == 0)
            {
                Assert.Equal(ProxyConfigValidator.Validate(next with { }), ProxyConfigValidator.Validate(next, current));
            }

            foreach (var error in actual)
            {
                var kind = Kind(error.Message);
                kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            }

            // As a proxy does: a consistent snapshot becomes the base of the next delta, an inconsistent one is refused.
            if (actual.Count == 0)
            {
                consistent++;
                current = next;
            }
        }

        output.WriteLine($"seed {seed}: {steps} deltas, {consistent} consistent, {steps - consistent} not; final snapshot: {current.Clusters.Count} clusters, {current.RouteTables.Sum(t => t.VirtualHosts.Count)} virtual hosts");
        output.WriteLine("errors by kind: " + string.Join(", ", kinds.Select(k => $"{k.Key} ×{k.Value}")));
        Assert.InRange(consistent, steps / 5, steps * 4 / 5);

        // The deltas reach the rules that span objects, not only each object's own.
        foreach (var kind in new[] { "cluster is not defined", "route table is not defined", "secret is not defined", "secret lacks", "duplicate name", "domain already used", "port already bound" })
        {
            Assert.True(kinds.ContainsKey(kind), $"no delta produced \"{kind}\"; seen: {string.Join(", ", kinds.Keys)}");
        }
    }

    [Fact]
    public void Validate_PreviousNeverValidated_ChecksEverything()
    {
        // The previous snapshot has a broken cluster nobody checked; the next one keeps the same instance.
        var broken = Generated(20);
        broken = broken with { Clusters = Replace(broken.Clusters, 3, broken.Clusters[3] with { Endpoints = [new Endpoint { Address = "not an ip", Port = 80 }], Discovery = ClusterDiscovery.Static }) };
        var next = broken with { Version = "next" };

        var errors = ProxyConfigValidator.Validate(next, broken);

        Assert.Equal(["cluster \"outbound|80||svc3.example.com\": endpoints[0].address: \"not an ip\" is not an IP address; a STATIC cluster needs IP addresses (use STRICT_DNS or LOGICAL_DNS for host names)"], errors);
        Assert.Equal(ProxyConfigValidator.Validate(next with { }), errors);
    }

    [Fact]
    public void Validate_PreviousInconsistent_ChecksEverything()
    {
        var broken = Generated(20);
        var host = broken.RouteTables[0].VirtualHosts[2];
        broken = broken with { RouteTables = Replace(broken.RouteTables, 0, broken.RouteTables[0] with { VirtualHosts = Replace(broken.RouteTables[0].VirtualHosts, 2, host with { Domains = ["svc1.example.com"] }) }) };
        Assert.NotEmpty(ProxyConfigValidator.Validate(broken));

        // Only the version changes: every object, the broken virtual host included, is the same instance.
        var next = broken with { Version = "next" };
        var errors = ProxyConfigValidator.Validate(next, broken);

        Assert.Equal(["route table \"http.80\": virtualHosts[2].domains[0]: \"svc1.example.com\" is already a domain of virtual host \"svc1.example.com:80\"; a domain may appear once in a route table"], errors);
    }

    [Fact]
    public void Validate_PreviousConsistentSameObjects_NothingToReport()
    {
        var previous = Generated(20);
        Assert.Empty(ProxyConfigValidator.Validate(previous));

        Assert.Empty(ProxyConfigValidator.Validate(previous, previous));
        Assert.Empty(ProxyConfigValidator.Validate(previous with { Version = "8", AccessLog = new AccessLogSettings { Path = "/tmp/access.log" } }, previous));
        Assert.Equal(["proxy config: version: must not be empty"], ProxyConfigValidator.Validate(previous with { Version = " " }, previous));
    }

    [Fact]
    public void Validate_UnchangedObjectsLoseWhatTheyName_ReportedAtTheUnchangedObjects()
    {
        var previous = Generated(20);
        Assert.Empty(ProxyConfigValidator.Validate(previous));

        // A cluster removed: the unchanged routes and listener chains that forward to it.
        var withoutCluster = previous with { Clusters = RemoveAt(previous.Clusters, 1) };
        var errors = ProxyConfigValidator.Validate(withoutCluster, previous);
        Assert.Contains("route table \"http.80\": virtualHosts[1].routes[1].forward.clusters[0].name: cluster \"outbound|80||svc1.example.com\" is not defined; did you mean \"outbound|80||svc0.example.com\"?", errors);
        Assert.Contains("listener \"tcp\": filterChains[0].cluster: cluster \"outbound|80||svc1.example.com\" is not defined; did you mean \"outbound|80||svc0.example.com\"?", errors);
        Assert.Equal(ProxyConfigValidator.Validate(withoutCluster with { }), errors);

        // A secret replaced by one without a CA: the unchanged TLS clusters that verify servers with it.
        var index = IndexOf(previous.Secrets, Secret.RootCa);
        var withoutCa = previous with { Secrets = Replace(previous.Secrets, index, new Secret { Name = Secret.RootCa, CertificateChain = Certificate, PrivateKey = Key }) };
        errors = ProxyConfigValidator.Validate(withoutCa, previous);
        Assert.Contains("cluster \"outbound|80||svc2.example.com\": tls: mode ISTIO_MUTUAL uses secret \"ROOTCA\", which holds no trustedCa", errors);
        Assert.Equal(ProxyConfigValidator.Validate(withoutCa with { }), errors);

        // A new virtual host before an unchanged one that has its domain: the unchanged one is the duplicate.
        var table = previous.RouteTables[0];
        var first = new VirtualHost { Name = "first", Domains = ["svc4.example.com"], Routes = [Forward("outbound|80||svc0.example.com")] };
        var withFirst = previous with { RouteTables = Replace(previous.RouteTables, 0, table with { VirtualHosts = Insert(table.VirtualHosts, 0, first) }) };
        Assert.Equal(
            ["route table \"http.80\": virtualHosts[5].domains[0]: \"svc4.example.com\" is already a domain of virtual host \"first\"; a domain may appear once in a route table"],
            ProxyConfigValidator.Validate(withFirst, previous));
    }

    [Fact]
    public void Validate_OneClusterAndOneVirtualHostChangedIn10000_PrintsFullAndIncrementalTimes()
    {
        var previous = Generated(10_000);
        Assert.Empty(ProxyConfigValidator.Validate(previous));

        var table = previous.RouteTables[0];
        var host = table.VirtualHosts[5000];
        var next = previous with
        {
            Version = "next",
            Clusters = Replace(previous.Clusters, 5000, previous.Clusters[5000] with { Endpoints = [new Endpoint { Address = "svc5000.example.com", Port = 8080 }] }),
            RouteTables = Replace(previous.RouteTables, 0, table with { VirtualHosts = Replace(table.VirtualHosts, 5000, host with { Routes = [Forward("outbound|80||svc4999.example.com"), .. host.Routes] }) }),
        };

        // Unused cluster removed: every route's clusters are looked up again.
        var removed = previous with { Version = "removed", Clusters = RemoveAt(previous.Clusters, IndexOf(previous.Clusters, "unused")) };

        // A virtual host removed from the middle: every later one moves, so the table is matched by name.
        var shifted = previous with { Version = "shifted", RouteTables = Replace(previous.RouteTables, 0, table with { VirtualHosts = RemoveAt(table.VirtualHosts, 5000) }) };

        output.WriteLine($"{previous.Clusters.Count} clusters, {table.VirtualHosts.Count} virtual hosts; median of 15 warm runs, full check of a fresh copy vs incremental");
        foreach (var (what, config) in new[] { ("one cluster + one virtual host changed", next), ("one unused cluster removed", removed), ("one virtual host removed from the middle", shifted) })
        {
            // Warm: each measured call gets a fresh ProxyConfig (a consistent one is remembered and not checked again).
            var full = Measure(() => ProxyConfigValidator.Check(config with { }));
            var incremental = Measure(() => ProxyConfigValidator.Check(config with { }, previous));
            Assert.Empty(ProxyConfigValidator.Check(config with { }, previous));
            output.WriteLine($"{what}: full {full.TotalMilliseconds:F2} ms, incremental {incremental.TotalMilliseconds:F2} ms");
        }
    }

    /// <summary>
    /// A consistent snapshot with <paramref name="services"/> clusters (DNS, static, EDS with ISTIO_MUTUAL, and
    /// LOGICAL_DNS with SIMPLE TLS and a named CA), a route table with a virtual host for each (weighted clusters,
    /// matches, retries), a smaller TLS-terminated one, and HTTP, TLS, TCP, capture and virtual listeners.
    /// </summary>
    internal static ProxyConfig Generated(int services)
    {
        var secrets = new List<Secret>
        {
            new() { Name = Secret.Default, CertificateChain = Certificate, PrivateKey = Key },
            new() { Name = Secret.RootCa, TrustedCa = Certificate },
        };
        for (var i = 0; i < 5; i++)
        {
            secrets.Add(new Secret { Name = $"ca-{i}", TrustedCa = Certificate });
            secrets.Add(new Secret { Name = $"cert-{i}", CertificateChain = Certificate, PrivateKey = Key, TrustedCa = i % 2 == 0 ? Certificate : null });
        }

        var clusters = new List<Cluster>(services + 3);
        for (var i = 0; i < services; i++)
        {
            clusters.Add(ServiceCluster(i));
        }

        clusters.Add(Cluster.BlackHoleCluster);
        clusters.Add(Cluster.PassthroughCluster);
        clusters.Add(new Cluster { Name = "unused", Discovery = ClusterDiscovery.Static, Endpoints = [new Endpoint { Address = "127.0.0.2", Port = 1 }] });

        var hosts = new List<VirtualHost>(services + 1);
        for (var i = 0; i < services; i++)
        {
            hosts.Add(ServiceHost(i, services));
        }

        hosts.Add(new VirtualHost { Name = "blackhole", Domains = ["*"], Routes = [Forward(Cluster.BlackHole)] });
        var secure = new List<VirtualHost>();
        for (var i = 0; i < services; i += 10)
        {
            secure.Add(new VirtualHost { Name = $"secure{i}", Domains = [$"secure{i}.example.com"], Routes = [Forward(ClusterName(i))] });
        }

        return new ProxyConfig
        {
            Version = "1",
            Node = new Node { Id = "sidecar~10.0.0.9~sleep.default~default.svc.cluster.local", Namespace = "default" },
            Secrets = EquatableArray.From(secrets),
            Clusters = EquatableArray.From(clusters),
            RouteTables =
            [
                new RouteTable { Name = "http.80", VirtualHosts = EquatableArray.From(hosts) },
                new RouteTable { Name = "https.8443", VirtualHosts = EquatableArray.From(secure) },
            ],
            Listeners =
            [
                new Listener { Name = "http", Address = "0.0.0.0", Port = 8080, Protocol = ListenerProtocol.Http, DefaultFilterChain = new FilterChain { RouteTable = "http.80" } },
                new Listener
                {
                    Name = "tls",
                    Address = "0.0.0.0",
                    Port = 8443,
                    Protocol = ListenerProtocol.Tls,
                    FilterChains =
                    [
                        new FilterChain { ServerNames = ["svc0.example.com"], Cluster = ClusterName(0) },
                        new FilterChain { ServerNames = ["*.example.com"], Tls = new DownstreamTls { Mode = TlsMode.Simple, CertificateSecret = "cert-0" }, RouteTable = "https.8443" },
                        new FilterChain { ServerNames = ["mtls.example.org"], Tls = new DownstreamTls { Mode = TlsMode.IstioMutual }, RouteTable = "https.8443" },
                    ],
                    DefaultFilterChain = new FilterChain { Cluster = Cluster.BlackHole },
                },
                new Listener { Name = "tcp", Address = "127.0.0.1", Port = 9001, Protocol = ListenerProtocol.Tcp, FilterChains = [new FilterChain { Cluster = ClusterName(1) }] },
                new Listener { Name = "virtualOutbound", Address = "0.0.0.0", Port = 15001, Protocol = ListenerProtocol.Http, ExplicitHttpProxy = true, DefaultFilterChain = new FilterChain { Cluster = Cluster.Passthrough } },
                new Listener { Name = "0.0.0.0_80", Address = "0.0.0.0", Port = 80, Protocol = ListenerProtocol.Http, BindToPort = false, DefaultFilterChain = new FilterChain { RouteTable = "http.80" } },
            ],
        };
    }

    private static string ClusterName(int i) => $"outbound|80||svc{i}.example.com";

    private static Cluster ServiceCluster(int i) => (i % 4) switch
    {
        0 => new Cluster { Name = ClusterName(i), Discovery = ClusterDiscovery.StrictDns, Endpoints = [new Endpoint { Address = $"svc{i}.example.com", Port = 80 }] },
        1 => new Cluster { Name = ClusterName(i), Discovery = ClusterDiscovery.Static, Endpoints = [new Endpoint { Address = $"10.{i / 65536 % 256}.{i / 256 % 256}.{i % 256}", Port = 80 }], ConnectTimeout = TimeSpan.FromSeconds(5) },
        2 => new Cluster
        {
            Name = ClusterName(i),
            Discovery = ClusterDiscovery.Eds,
            Endpoints = [new Endpoint { Address = "10.1.0.1", Port = 8080, Weight = 2 }, new Endpoint { Address = "10.1.0.2", Port = 8080 }],
            Tls = new UpstreamTls { Mode = TlsMode.IstioMutual, Sni = $"svc{i}.example.com" },
        },
        _ => new Cluster
        {
            Name = ClusterName(i),
            Discovery = ClusterDiscovery.LogicalDns,
            Endpoints = [new Endpoint { Address = $"svc{i}.example.com", Port = 443 }],
            Tls = new UpstreamTls { Mode = TlsMode.Simple, Sni = $"svc{i}.example.com", CaSecret = $"ca-{i % 5}", CertificateSecret = i % 8 == 3 ? $"cert-{i % 5}" : null },
        },
    };

    private static VirtualHost ServiceHost(int i, int services) => new()
    {
        Name = $"svc{i}.example.com:80",
        Domains = [$"svc{i}.example.com", $"svc{i}.example.com:80"],
        Routes =
        [
            new Route
            {
                Name = "canary",
                Match = new RouteMatch { Prefix = "/api/", Headers = [new HeaderMatch { Name = "x-canary", Exact = "true" }] },
                Forward = new ForwardAction
                {
                    Clusters = [new WeightedCluster { Name = ClusterName(i), Weight = 90 }, new WeightedCluster { Name = ClusterName((i + 1) % services), Weight = 10 }],
                    Timeout = TimeSpan.FromSeconds(3),
                    Retries = RetryPolicy.IstioDefault,
                },
            },
            i % 10 == 0
                ? new Route { Match = new RouteMatch { Regex = "/old/.*" }, Redirect = new RedirectAction { Path = "/new", Status = 308 } }
                : Forward(ClusterName(i)),
        ],
    };

    private static Route Forward(string cluster) => new() { Forward = new ForwardAction { Clusters = [new WeightedCluster { Name = cluster }] } };

    /// <summary>One change a delta can make, valid or not, keeping every other object the same instance.</summary>
    private static (string What, ProxyConfig Config) Edit(ProxyConfig c, Random random)
    {
        var fresh = random.Next(1_000_000);
        switch (random.Next(12))
        {
            case 0 or 1 or 2:
                return EditCluster(c, random, fresh);
            case 3:
                return EditSecret(c, random, fresh);
            case 4 or 5 or 6 or 7:
                return EditHost(c, random, fresh);
            case 8:
                return EditRouteTable(c, random, fresh);
            case 9:
                return EditListener(c, random, fresh);
            case 10:
                return random.Next(4) switch
                {
                    0 => ("version changed", c with { Version = $"v{fresh}" }),
                    1 => ("version emptied", c with { Version = "" }),
                    2 => ("access log changed", c with { AccessLog = new AccessLogSettings { Path = random.Next(3) == 0 ? " " : AccessLogSettings.Stdout } }),
                    _ => ("node changed", c with { Node = new Node { Id = $"n{fresh}" } }),
                };
            default:
                return ("nothing changed", c with { });
        }
    }

    private static (string, ProxyConfig) EditCluster(ProxyConfig c, Random random, int fresh)
    {
        if (c.Clusters.IsEmpty)
        {
            return ("cluster added", c with { Clusters = [ServiceCluster(fresh)] });
        }

        var i = random.Next(c.Clusters.Count);
        var cluster = c.Clusters[i];
        return random.Next(14) switch
        {
            0 => ("cluster endpoint changed", c with { Clusters = Replace(c.Clusters, i, cluster with { ConnectTimeout = TimeSpan.FromSeconds(random.Next(1, 30)) }) }),
            1 => ("cluster copied", c with { Clusters = Replace(c.Clusters, i, cluster with { }) }),
            2 => ("cluster with an invalid endpoint", c with { Clusters = Replace(c.Clusters, i, cluster with { Discovery = ClusterDiscovery.Static, Endpoints = [new Endpoint { Address = "svc.example.com", Port = 0, Weight = 0 }] }) }),
            3 => ("cluster with a zero timeout", c with { Clusters = Replace(c.Clusters, i, cluster with { ConnectTimeout = TimeSpan.Zero }) }),
            4 => ("cluster TLS names a missing CA", c with { Clusters = Replace(c.Clusters, i, cluster with { Tls = new UpstreamTls { Mode = TlsMode.Simple, CaSecret = $"ca-{random.Next(4, 8)}" } }) }),
            5 => ("cluster TLS names a CA secret without a CA", c with { Clusters = Replace(c.Clusters, i, cluster with { Tls = new UpstreamTls { Mode = TlsMode.Mutual, CaSecret = "cert-1", CertificateSecret = random.Next(2) == 0 ? "ca-1" : null } }) }),
            6 => ("cluster added", c with { Clusters = Insert(c.Clusters, Place(random, c.Clusters.Count), ServiceCluster(fresh)) }),
            7 => ("cluster added with a taken name", c with { Clusters = Insert(c.Clusters, random.Next(c.Clusters.Count + 1), random.Next(2) == 0 ? cluster : cluster with { ConnectTimeout = TimeSpan.FromSeconds(-1) }) }),
            8 or 9 => ("cluster removed", c with { Clusters = RemoveAt(c.Clusters, i) }),
            10 => ("cluster renamed", c with { Clusters = Replace(c.Clusters, i, cluster with { Name = ClusterName(fresh) }) }),
            11 => ("cluster with an empty name", c with { Clusters = Replace(c.Clusters, i, cluster with { Name = "" }) }),
            12 => ("cluster replaced by a new service", c with { Clusters = Replace(c.Clusters, i, ServiceCluster(fresh) with { Name = cluster.Name }) }),
            _ => ("clusters reordered", c with { Clusters = Insert(RemoveAt(c.Clusters, i), random.Next(c.Clusters.Count), cluster) }),
        };
    }

    private static (string, ProxyConfig) EditSecret(ProxyConfig c, Random random, int fresh)
    {
        if (c.Secrets.IsEmpty)
        {
            return ("secret added", c with { Secrets = [new Secret { Name = Secret.RootCa, TrustedCa = Certificate }] });
        }

        var i = random.Next(c.Secrets.Count);
        var secret = c.Secrets[i];
        return random.Next(9) switch
        {
            0 => ("secret copied", c with { Secrets = Replace(c.Secrets, i, secret with { }) }),
            1 => ("secret loses its CA", c with { Secrets = Replace(c.Secrets, i, secret with { TrustedCa = null, CertificateChain = Certificate, PrivateKey = Key }) }),
            2 => ("secret loses its key", c with { Secrets = Replace(c.Secrets, i, secret with { PrivateKey = null, CertificateChain = null, TrustedCa = Certificate }) }),
            3 => ("secret not PEM", c with { Secrets = Replace(c.Secrets, i, secret with { PrivateKey = random.Next(2) == 0 ? "key" : null }) }),
            4 => ("secret removed", c with { Secrets = RemoveAt(c.Secrets, i) }),
            5 => ("secret added", c with { Secrets = Insert(c.Secrets, random.Next(c.Secrets.Count + 1), new Secret { Name = $"s{fresh}", TrustedCa = Certificate }) }),
            6 => ("secret shadowed by an earlier one", c with { Secrets = Insert(c.Secrets, random.Next(i + 1), new Secret { Name = secret.Name, TrustedCa = random.Next(2) == 0 ? Certificate : null, CertificateChain = Certificate, PrivateKey = Key }) }),
            7 => ("secret repeated", c with { Secrets = Insert(c.Secrets, random.Next(c.Secrets.Count + 1), secret) }),
            _ => ("secret renamed", c with { Secrets = Replace(c.Secrets, i, secret with { Name = $"s{fresh}" }) }),
        };
    }

    private static (string, ProxyConfig) EditHost(ProxyConfig c, Random random, int fresh)
    {
        if (c.RouteTables.IsEmpty)
        {
            return ("route table added", c with { RouteTables = [new RouteTable { Name = "http.80", VirtualHosts = [ServiceHost(fresh, 1)] }] });
        }

        var t = random.Next(c.RouteTables.Count);
        var table = c.RouteTables[t];
        var hosts = table.VirtualHosts;
        var (what, changed) = hosts.IsEmpty ? ("virtual host added", [ServiceHost(0, 1)]) : EditHosts(hosts, c, random, fresh);
        return (what, c with { RouteTables = Replace(c.RouteTables, t, table with { VirtualHosts = changed }) });
    }

    private static (string, EquatableArray<VirtualHost>) EditHosts(EquatableArray<VirtualHost> hosts, ProxyConfig c, Random random, int fresh)
    {
        var i = random.Next(hosts.Count);
        var host = hosts[i];
        var other = hosts[random.Next(hosts.Count)];
        var cluster = c.Clusters.IsEmpty ? Cluster.BlackHole : c.Clusters[random.Next(c.Clusters.Count)].Name;
        return random.Next(16) switch
        {
            0 or 1 => ("virtual host route added", Replace(hosts, i, host with { Routes = [Forward(cluster), .. host.Routes] })),
            2 => ("virtual host copied", Replace(hosts, i, host with { })),
            3 => ("virtual host takes another's domain", Replace(hosts, i, host with { Domains = [.. host.Domains, other.Domains.IsEmpty ? "*" : other.Domains[0].ToUpperInvariant()] })),
            4 => ("virtual host takes another's name", Replace(hosts, i, host with { Name = other.Name })),
            5 => ("virtual host routes to a missing cluster", Replace(hosts, i, host with { Routes = [Forward($"outbound|81||missing{fresh}")] })),
            6 => ("virtual host invalid", Replace(hosts, i, host with
            {
                Domains = random.Next(2) == 0 ? [] : ["bad host:0"],
                Routes = [new Route { Match = new RouteMatch { Regex = "(" }, Redirect = new RedirectAction { Status = 200 } }],
            })),
            7 or 8 => ("virtual host added", Insert(hosts, Place(random, hosts.Count), ServiceHost(fresh, 1) with { Routes = [Forward(cluster)] })),
            9 => ("virtual host added with a taken domain", Insert(hosts, Place(random, hosts.Count), new VirtualHost { Name = $"new{fresh}", Domains = [.. other.Domains], Routes = [Forward(cluster)] })),
            10 => ("virtual host added with a taken name", Insert(hosts, Place(random, hosts.Count), new VirtualHost { Name = other.Name, Domains = [$"new{fresh}.example.com"], Routes = [Forward(cluster)] })),
            11 => ("virtual host removed", RemoveAt(hosts, i)),
            12 => ("last virtual host removed", RemoveAt(hosts, hosts.Count - 1)),
            13 => ("virtual host moved", Insert(RemoveAt(hosts, i), random.Next(hosts.Count), host)),
            14 => ("virtual host repeated", Insert(hosts, Place(random, hosts.Count), host)),
            _ => ("virtual host with an empty name", Replace(hosts, i, host with { Name = "" })),
        };
    }

    private static (string, ProxyConfig) EditRouteTable(ProxyConfig c, Random random, int fresh)
    {
        if (c.RouteTables.IsEmpty)
        {
            return ("route table added", c with { RouteTables = [new RouteTable { Name = "http.80", VirtualHosts = [ServiceHost(fresh, 1)] }] });
        }

        var i = random.Next(c.RouteTables.Count);
        var table = c.RouteTables[i];

        // The big table is kept (copied instead), so that most deltas edit a table of hundreds of virtual hosts.
        var edit = random.Next(7);
        if (table.Name == "http.80" && edit is 2 or 5)
        {
            edit = 0;
        }

        return edit switch
        {
            0 => ("route table copied", c with { RouteTables = Replace(c.RouteTables, i, table with { }) }),
            1 => ("route table copied deeply", c with { RouteTables = Replace(c.RouteTables, i, table with { VirtualHosts = EquatableArray.From(table.VirtualHosts.Select(h => h with { })) }) }),
            2 => ("route table removed", c with { RouteTables = RemoveAt(c.RouteTables, i) }),
            3 => ("route table added", c with { RouteTables = Insert(c.RouteTables, random.Next(c.RouteTables.Count + 1), new RouteTable { Name = $"r{fresh}", VirtualHosts = [ServiceHost(fresh, 1) with { Routes = [Forward(Cluster.BlackHole)] }] }) }),
            4 => ("route table repeated", c with { RouteTables = Insert(c.RouteTables, random.Next(c.RouteTables.Count + 1), random.Next(2) == 0 ? table : table with { VirtualHosts = [] }) }),
            5 => ("route table renamed", c with { RouteTables = Replace(c.RouteTables, i, table with { Name = $"r{fresh}" }) }),
            _ => ("route tables reordered", c with { RouteTables = Insert(RemoveAt(c.RouteTables, i), random.Next(c.RouteTables.Count), table) }),
        };
    }

    private static (string, ProxyConfig) EditListener(ProxyConfig c, Random random, int fresh)
    {
        if (c.Listeners.IsEmpty)
        {
            return ("listener added", c with { Listeners = [new Listener { Name = "tcp", Address = "127.0.0.1", Port = 9001, Protocol = ListenerProtocol.Tcp, FilterChains = [new FilterChain { Cluster = Cluster.BlackHole }] }] });
        }

        var i = random.Next(c.Listeners.Count);
        var listener = c.Listeners[i];
        var other = c.Listeners[random.Next(c.Listeners.Count)];
        return random.Next(7) switch
        {
            0 => ("listener copied", c with { Listeners = Replace(c.Listeners, i, listener with { }) }),
            1 => ("listener takes another's port", c with { Listeners = Replace(c.Listeners, i, listener with { Address = other.Address, Port = other.Port, BindToPort = other.BindToPort }) }),
            2 => ("listener removed", c with { Listeners = RemoveAt(c.Listeners, i) }),
            3 => ("listener added", c with { Listeners = Insert(c.Listeners, random.Next(c.Listeners.Count + 1), new Listener { Name = $"l{fresh}", Address = "127.0.0.1", Port = 10_000 + fresh % 50_000, Protocol = ListenerProtocol.Tcp, FilterChains = [new FilterChain { Cluster = c.Clusters.IsEmpty ? "none" : c.Clusters[random.Next(c.Clusters.Count)].Name }] }) }),
            4 => ("listener names a missing route table", c with { Listeners = Replace(c.Listeners, i, new Listener { Name = listener.Name, Address = "127.0.0.1", Port = 20_000 + fresh % 40_000, Protocol = ListenerProtocol.Http, DefaultFilterChain = new FilterChain { RouteTable = $"r{fresh % 3}" } }) }),
            5 => ("listener renamed to another's", c with { Listeners = Replace(c.Listeners, i, listener with { Name = other.Name }) }),
            _ => ("listener terminates TLS with a secret", c with { Listeners = Replace(c.Listeners, i, new Listener { Name = listener.Name, Address = "127.0.0.1", Port = 30_000 + fresh % 30_000, Protocol = ListenerProtocol.Tls, FilterChains = [new FilterChain { Tls = new DownstreamTls { Mode = TlsMode.Mutual, CertificateSecret = $"cert-{fresh % 6}", CaSecret = $"ca-{fresh % 6}" }, RouteTable = "https.8443" }] }) }),
        };
    }

    /// <summary>Where to add an item: half the time at the end, as most deltas do, else anywhere.</summary>
    private static int Place(Random random, int count) => random.Next(2) == 0 ? count : random.Next(count + 1);

    /// <summary>A coarse kind for an error message, to show which rules the deltas reached.</summary>
    private static string Kind(string message) => message switch
    {
        _ when message.StartsWith("cluster \"", StringComparison.Ordinal) && message.Contains("is not defined", StringComparison.Ordinal) => "cluster is not defined",
        _ when message.StartsWith("route table \"", StringComparison.Ordinal) && message.Contains("is not defined", StringComparison.Ordinal) => "route table is not defined",
        _ when message.Contains("is not defined", StringComparison.Ordinal) => "secret is not defined",
        _ when message.Contains("holds no", StringComparison.Ordinal) => "secret lacks",
        _ when message.StartsWith("duplicate name", StringComparison.Ordinal) => "duplicate name",
        _ when message.Contains("is already a domain", StringComparison.Ordinal) => "domain already used",
        _ when message.Contains("is already bound", StringComparison.Ordinal) || message.Contains("is already the address", StringComparison.Ordinal) => "port already bound",
        _ => "other",
    };

    private static TimeSpan Measure(Func<IReadOnlyList<object>> check)
    {
        for (var i = 0; i < 5; i++)
        {
            _ = check();
        }

        var times = new TimeSpan[15];
        for (var i = 0; i < times.Length; i++)
        {
            var start = Stopwatch.GetTimestamp();
            _ = check();
            times[i] = Stopwatch.GetElapsedTime(start);
        }

        Array.Sort(times);
        return times[times.Length / 2];
    }

    private static int IndexOf<T>(EquatableArray<T> items, string name)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is Secret { Name: var s } && s == name || items[i] is Cluster { Name: var k } && k == name)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"{name} not found");
    }

    private static EquatableArray<T> Replace<T>(EquatableArray<T> items, int index, T item)
    {
        var copy = items.ToArray();
        copy[index] = item;
        return EquatableArray.From(copy);
    }

    private static EquatableArray<T> Insert<T>(EquatableArray<T> items, int index, T item)
    {
        var copy = new List<T>(items);
        copy.Insert(index, item);
        return EquatableArray.From(copy);
    }

    private static EquatableArray<T> RemoveAt<T>(EquatableArray<T> items, int index)
    {
        var copy = new List<T>(items);
        copy.RemoveAt(index);
        return EquatableArray.From(copy);
    }
}
