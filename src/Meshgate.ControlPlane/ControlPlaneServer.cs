using System.Net;
using Meshgate.ControlPlane.Api;
using Meshgate.ControlPlane.Api.Access;
using Meshgate.ControlPlane.Deploy;
using Meshgate.ControlPlane.GatewayStatus;
using Meshgate.ControlPlane.Identity;
using Meshgate.ControlPlane.Push;
using Meshgate.ControlPlane.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meshgate.ControlPlane;

/// <summary>
/// istiod's counterpart: owns the store, serves the resource API, pushes snapshots over gRPC, and runs the mesh CA
/// (docs/identity.md): discovery and certificate requests over TLS on 15012, plaintext discovery on 15010 only when asked.
/// </summary>
public sealed partial class ControlPlaneServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ILogger _logger;
    private Func<(ListenOptions? Api, ListenOptions? Discovery, ListenOptions? Secure)> _listens = () => (null, null, null);
    private IPEndPoint? _secureSocketEndPoint;
    private AdminToken? _adminToken;
    private string _dataDirectory = "";

    private ControlPlaneServer(WebApplication app, ResourceStore store, PushService push, MeshIdentity identity, TrustRollout trust, ILogger logger)
    {
        Trust = trust;
        _app = app;
        Store = store;
        Push = push;
        Identity = identity;
        _logger = logger;
    }

    /// <summary>The CA and the pod-bound tokens.</summary>
    public MeshIdentity Identity { get; }

    /// <summary>The trust bundle in force and changes of the mesh root (Secret <c>cacerts</c>).</summary>
    public TrustRollout Trust { get; }

    /// <summary>Deploys the workloads of Gateway API Gateways of class istio.</summary>
    public GatewayDeployer Deployer { get; private init; } = null!;

    /// <summary>Writes the status of Gateway API objects, as Istio's gateway controller does.</summary>
    public GatewayStatusController StatusController { get; private init; } = null!;

    /// <summary>The TLS discovery and CA address, once started (the real port when 0 was asked for); null when not opened.</summary>
    public IPEndPoint? SecureDiscoveryEndPoint { get; private set; }

    /// <summary>The mesh root bundle (PEM) proxies check the control plane and each other against.</summary>
    public string RootBundle => Trust.RootBundle;

    /// <summary>The largest snapshot sent to a proxy: the proxy's discovery client accepts as much (64 MiB).</summary>
    public const int MaxSnapshotBytes = 64 * 1024 * 1024;

    public ResourceStore Store { get; }

    /// <summary>The connected proxies and what they were sent.</summary>
    public PushService Push { get; }

    /// <summary>The plaintext discovery (gRPC) address, once started (the real port when 0 was asked for); port 0 when not opened.</summary>
    public IPEndPoint DiscoveryEndPoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>The address the API listens on, once started (the real port when 0 was asked for); <c>https://</c> unless
    /// <see cref="ControlPlaneOptions.UnauthenticatedPlaintextApiForTests"/>.</summary>
    public Uri ApiAddress { get; private set; } = new("https://127.0.0.1:0");

    /// <summary>
    /// <c>DATA/kubeconfig</c> (kubectl's and the CLI's way in: address, mesh root, admin token), written at start;
    /// null for a plaintext test API.
    /// </summary>
    public string? KubeconfigPath { get; private set; }

    /// <param name="translate">How snapshots are built; <see cref="PushService.Translate"/> unless a test brings its own.</param>
    public static ControlPlaneServer Create(ControlPlaneOptions options, ILoggerFactory loggerFactory, SnapshotTranslator? translate = null, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var store = ResourceStore.Open(options.DataDirectory, time);
        MeshIdentity identity;
        AdminToken? adminToken;
        try
        {
            adminToken = options.UnauthenticatedPlaintextApiForTests ? null : AdminToken.LoadOrCreate(options.DataDirectory);
            identity = LoadIdentity(options, store, time);
        }
        catch
        {
            store.Dispose();
            throw;
        }

        var mesh = Core.Translation.Translator.MeshSettingsFrom(store.Current);
        var trust = new TrustRollout(identity, store, options.CaDirectory, mesh.TrustDomain, mesh.RootNamespace, options.SecureDiscoveryEndpoint?.Address, time, loggerFactory.CreateLogger("meshgate.controlplane.ca"));
        var push = new PushService(store, translate ?? PushService.Translate, time, loggerFactory.CreateLogger("meshgate.controlplane.push"));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(push);
        builder.Services.AddSingleton(identity);
        builder.Services.AddSingleton(trust);
        builder.Services.AddSingleton(options);
        builder.Services.AddGrpc(grpc =>
        {
            // Snapshots of 10,000 services are megabytes (the proxy accepts up to 64 MiB); requests are small ACKs.
            grpc.MaxSendMessageSize = MaxSnapshotBytes;
            grpc.MaxReceiveMessageSize = 4 * 1024 * 1024;
        });
        ListenOptions? api = null;
        ListenOptions? discovery = null;
        ListenOptions? secure = null;
        IPEndPoint? secureSocketEndPoint = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(options.ApiEndpoint, listen =>
            {
                // HTTP/1.1 only: kubectl exec's WebSocket upgrade needs it, and ALPN then offers http/1.1 alone.
                listen.Protocols = HttpProtocols.Http1;
                ListenerAccess.MarkApiListener(listen);
                if (adminToken is not null)
                {
                    listen.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificate = ApiServerCertificate(identity.Authority, options.ApiEndpoint.Address),
                        ServerCertificateChain = identity.Authority.ChainAboveLeaf(),
                        ClientCertificateMode = ClientCertificateMode.NoCertificate,
                    });
                }

                api = listen;
            });
            if (options.DiscoveryEndpoint is { } plaintext)
            {
                kestrel.Listen(plaintext, listen =>
                {
                    listen.Protocols = HttpProtocols.Http2; // plaintext HTTP/2 with prior knowledge, as gRPC clients speak it
                    discovery = listen;
                });
            }

            if (options.SecureDiscoveryEndpoint is { } tls)
            {
                void Configure(ListenOptions listen)
                {
                    listen.Protocols = HttpProtocols.Http2;
                    // The certificate is read per handshake: a change of root switches it without a restart (TrustRollout).
                    listen.UseHttps(new TlsHandshakeCallbackOptions
                    {
                        OnConnection = _ => ValueTask.FromResult(new System.Net.Security.SslServerAuthenticationOptions
                        {
                            ServerCertificateContext = trust.ServerCertificate,
                            ApplicationProtocols = [System.Net.Security.SslApplicationProtocol.Http2],
                            ClientCertificateRequired = false,
                        }),
                    });
                    secure = listen;
                }

                if (options.OpenDiscoverySocket is { } open)
                {
                    var socket = open(tls);
                    secureSocketEndPoint = (IPEndPoint?)socket.LocalEndPoint;
                    kestrel.ListenHandle((ulong)socket.Handle, Configure);
                    socket.SafeHandle.SetHandleAsInvalid(); // Kestrel's transport owns the descriptor from here and closes it

                }
                else
                {
                    kestrel.Listen(tls, Configure);
                }
            }
            kestrel.Limits.MaxRequestBodySize = ResourceApi.MaxRequestBytes;
            kestrel.AddServerHeader = false;
        });
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.DefaultIgnoreCondition = ApiJson.Options.DefaultIgnoreCondition;
            json.SerializerOptions.Encoder = ApiJson.Options.Encoder;
        });
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        var app = builder.Build();
        var logger = loggerFactory.CreateLogger("meshgate.controlplane");
        ErrorHandling.Use(app, logger);
        ListenerAccess.Use(app, adminToken);
        app.UseWebSockets();
        ResourceApi.Map(app, store, time);
        PodLogApi.Map(app, store, options.LogsDirectory);
        PodExecApi.Map(app, store);
        TokenRequestApi.Map(app, store, identity);
        app.MapGrpcService<DiscoveryService>();
        app.MapGrpcService<CertificateService>();
        app.MapGrpcService<TrustService>();
        app.MapGet("/debug/syncz", () => Results.Json(push.Statuses(), ApiJson.Options));
        // Whether every connected proxy runs the store's current revision (what istioctl x wait --for=distribution asks).
        app.MapGet("/debug/synced", () =>
        {
            var revision = store.Current.Revision;
            return Results.Json(new { revision, synced = push.IsSynced(revision) }, ApiJson.Options);
        });
        Log.Authority(logger, identity.Authority.Source, identity.Authority.SigningCertificate.SerialNumber.ToLowerInvariant(), identity.Authority.SigningCertificate.NotAfter.ToUniversalTime());
        return new ControlPlaneServer(app, store, push, identity, trust, logger)
        {
            _listens = () => (api, discovery, secure),
            _secureSocketEndPoint = secureSocketEndPoint,
            _adminToken = adminToken,
            _dataDirectory = options.DataDirectory,
            Deployer = new GatewayDeployer(store, loggerFactory.CreateLogger("meshgate.controlplane.deploy"), options.GatewayTargetPort),
            StatusController = new GatewayStatusController(store, push, time, loggerFactory.CreateLogger("meshgate.controlplane.status")),
        };
    }

    /// <summary>
    /// The CA: a plug-in CA when Secret <c>cacerts</c> exists in the root namespace (read at start, as istiod reads it),
    /// else the self-signed root in <c>DATA/ca</c>; and the token signing key beside it.
    /// </summary>
    private static MeshIdentity LoadIdentity(ControlPlaneOptions options, ResourceStore store, TimeProvider time)
    {
        var resources = store.Current;
        var mesh = Core.Translation.Translator.MeshSettingsFrom(resources);
        IReadOnlyDictionary<string, byte[]>? plugIn = null;
        if (resources.Get(new Core.Resources.ObjectKey(Core.Resources.ResourceTypes.Secret, mesh.RootNamespace, "cacerts")) is { } cacerts)
        {
            plugIn = CertificateAuthority.PlugInData(cacerts.Json);
        }

        var authority = CertificateAuthority.Load(options.CaDirectory, mesh.TrustDomain, plugIn, time);
        try
        {
            return new MeshIdentity(authority, ServiceAccountTokens.Load(options.CaDirectory, time), options.WorkloadCertificateLifetime, MeshIdentity.MaxWorkloadLifetime);
        }
        catch
        {
            authority.Dispose();
            throw;
        }
    }

    /// <summary>The resource API's serving certificate: <c>localhost</c>, the loopback addresses and the address it listens on.</summary>
    private static System.Security.Cryptography.X509Certificates.X509Certificate2 ApiServerCertificate(CertificateAuthority authority, IPAddress listening)
    {
        var addresses = new List<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        if (!listening.Equals(IPAddress.Any) && !listening.Equals(IPAddress.IPv6Any) && !addresses.Contains(listening))
        {
            addresses.Add(listening);
        }

        return authority.IssueServerCertificate(["localhost"], addresses, TimeSpan.FromDays(365));
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        var (api, discoveryListen, secureListen) = _listens();
        if (api?.IPEndPoint is { } address)
        {
            var host = address.Address.Equals(IPAddress.IPv6Any) || address.Address.Equals(IPAddress.Any) ? IPAddress.Loopback : address.Address;
            ApiAddress = new Uri($"{(_adminToken is null ? "http" : "https")}://{new IPEndPoint(host, address.Port)}/");
        }

        if (_adminToken is not null)
        {
            KubeconfigPath = KubeconfigFile.Write(_dataDirectory, ApiAddress, RootBundle, _adminToken.Value);
        }

        if (discoveryListen?.IPEndPoint is { } discovery)
        {
            DiscoveryEndPoint = discovery;
        }

        SecureDiscoveryEndPoint = secureListen?.IPEndPoint ?? _secureSocketEndPoint;
        Trust.Start();
        Deployer.Start();
        Push.Start();
        StatusController.Start();
        Log.Listening(_logger, ApiAddress, Store.Path, Store.Current.Revision, Store.Current.Objects.Count);
        if (SecureDiscoveryEndPoint is { } secure)
        {
            Log.SecureDiscovery(_logger, secure);
        }

        if (discoveryListen is not null)
        {
            Log.Discovery(_logger, DiscoveryEndPoint);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        // Streams end first (they never finish on their own), then the server stops.
        await Trust.DisposeAsync().ConfigureAwait(false);
        await StatusController.DisposeAsync().ConfigureAwait(false);
        await Deployer.DisposeAsync().ConfigureAwait(false);
        await Push.DisposeAsync().ConfigureAwait(false);
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await Trust.DisposeAsync().ConfigureAwait(false);
        await StatusController.DisposeAsync().ConfigureAwait(false);
        await Deployer.DisposeAsync().ConfigureAwait(false);
        await Push.DisposeAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        Store.Dispose();
        Identity.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "resource API listening on {Address} (store {Path}, revision {Revision}, {Count} objects)")]
        public static partial void Listening(ILogger logger, Uri address, string path, long revision, int count);

        [LoggerMessage(2, LogLevel.Information, "discovery (gRPC, plaintext) on {Address}")]
        public static partial void Discovery(ILogger logger, IPEndPoint address);

        [LoggerMessage(3, LogLevel.Information, "discovery and CA (gRPC over TLS) on {Address}")]
        public static partial void SecureDiscovery(ILogger logger, IPEndPoint address);

        [LoggerMessage(4, LogLevel.Information, "ca: signing with the {Source} (serial {Serial}, expires {NotAfter:O})")]
        public static partial void Authority(ILogger logger, string source, string serial, DateTime notAfter);
    }
}
