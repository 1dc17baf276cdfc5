using System.Net;
using System.Security.Cryptography.X509Certificates;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meshgate.Tests.Upstream;

/// <summary>
/// A real gRPC server (Grpc.AspNetCore on Kestrel, HTTP/2 only) on 127.0.0.1 and a free port, with a hand-written
/// service of byte-array messages: <see cref="Unary"/> echoes its request with a prefix; <see cref="Stream"/> sends the
/// request's first byte as a count of messages (message i is i repeated i+1 times), then trailer <c>x-sent</c> and
/// status OK, or NOT_FOUND with message "gone" when the request's second byte is 1. Plaintext (h2c) unless given a
/// certificate (h2 by ALPN).
/// </summary>
internal sealed class GrpcOrigin(WebApplication app, int port) : IAsyncDisposable
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    public static readonly Method<byte[], byte[]> Unary = new(MethodType.Unary, "meshgate.test.Echo", "Unary", Bytes, Bytes);

    public static readonly Method<byte[], byte[]> Stream = new(MethodType.ServerStreaming, "meshgate.test.Echo", "Stream", Bytes, Bytes);

    public int Port { get; } = port;

    public static async Task<GrpcOrigin> StartAsync(X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<IServiceMethodProvider<EchoService>, EchoMethods>();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }));
        var app = builder.Build();
        app.MapGrpcService<EchoService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new GrpcOrigin(app, new Uri(address).Port);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    internal sealed class EchoService;

    private sealed class EchoMethods : IServiceMethodProvider<EchoService>
    {
        public void OnServiceMethodDiscovery(ServiceMethodProviderContext<EchoService> context)
        {
            context.AddUnaryMethod(Unary, [], (_, request, call) => Task.FromResult<byte[]>([.. "echo:"u8, .. request]));
            context.AddServerStreamingMethod(Stream, [], async (_, request, stream, call) =>
            {
                for (var i = 0; i < request[0]; i++)
                {
                    var message = new byte[i + 1];
                    Array.Fill(message, (byte)i);
                    await stream.WriteAsync(message);
                }

                call.ResponseTrailers.Add("x-sent", request[0].ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (request.Length > 1 && request[1] == 1)
                {
                    throw new RpcException(new Status(StatusCode.NotFound, "gone"));
                }
            });
        }
    }
}
