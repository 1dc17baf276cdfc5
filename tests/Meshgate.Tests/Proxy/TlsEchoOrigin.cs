using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Meshgate.Tests.Proxy;

/// <summary>
/// A TLS origin on 127.0.0.1 with a self-signed certificate for <c>echo.test</c>: each line a client sends comes back
/// prefixed with the origin's name, so a test can tell which origin a (passed-through) connection reached.
/// </summary>
public sealed class TlsEchoOrigin : IAsyncDisposable
{
    public const string ServerName = "echo.test";

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly X509Certificate2 _certificate;
    private readonly string _name;
    private readonly Task _accepting;

    private TlsEchoOrigin(string name)
    {
        _name = name;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={ServerName}", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        _certificate = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static TlsEchoOrigin Start(string name) => new(name);

    /// <summary>A TLS client through <paramref name="port"/> with SNI <see cref="ServerName"/>, trusting any certificate.</summary>
    public static async Task<(TcpClient Client, SslStream Tls, StreamReader Reader)> ConnectAsync(int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var tls = new SslStream(client.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = ServerName,
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        });
        return (client, tls, new StreamReader(tls, Encoding.ASCII));
    }

    /// <summary>Sends one line and returns the answer.</summary>
    public static async Task<string?> EchoAsync(SslStream tls, StreamReader reader, string line)
    {
        await tls.WriteAsync(Encoding.ASCII.GetBytes(line + "\n"));
        await tls.FlushAsync();
        return await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _certificate.Dispose();
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                await using var tls = new SslStream(client.GetStream());
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, _stop.Token);
                using var reader = new StreamReader(tls, Encoding.ASCII);
                while (await reader.ReadLineAsync(_stop.Token) is { } line)
                {
                    await tls.WriteAsync(Encoding.ASCII.GetBytes($"{_name}:{line}\n"), _stop.Token);
                    await tls.FlushAsync(_stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
            {
            }
        }
    }
}
