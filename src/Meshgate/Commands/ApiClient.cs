using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text.Json;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Api;

namespace Meshgate.Commands;

/// <summary>The CLI's side of the resource API: turns transport failures and error statuses into one-line reasons.</summary>
public sealed class ApiClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly ApiTarget _target;
    private string? _untrusted;

    public ApiClient(ApiTarget target)
    {
        _target = target;
        var handler = target.CreateHandler(why => _untrusted = why);
        _http = target.CreateHttpClient(handler, Timeout.InfiniteTimeSpan);
    }

    public Uri Server => _target.Server;

    public Task<JsonNode?> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, null, cancellationToken);

    public Task<JsonNode?> DeleteAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, path, null, cancellationToken);

    public async Task<T> PostAsync<T>(string path, object body, CancellationToken cancellationToken)
    {
        // Read straight into T: an apply's answer names every object (20,000 objects: megabytes), no tree in between.
        var text = await SendForTextAsync(HttpMethod.Post, path, JsonContent.Create(body, options: ApiJson.Options), cancellationToken).ConfigureAwait(false);
        T? answer;
        try
        {
            answer = text.Length == 0 ? default : JsonSerializer.Deserialize<T>(text, ApiJson.Options);
        }
        catch (JsonException)
        {
            throw NotJson();
        }

        return answer ?? throw new CliException("error: the control plane sent an empty answer");
    }

    /// <summary>A plain-text answer, such as a pod's log (<c>/api/v1/namespaces/NS/pods/NAME/log</c>).</summary>
    public Task<string> GetTextAsync(string path, CancellationToken cancellationToken) =>
        SendForTextAsync(HttpMethod.Get, path, null, cancellationToken);

    /// <summary>Copies a plain-text answer to <paramref name="output"/> as it arrives (<c>logs -f</c>), until the server ends it or cancellation.</summary>
    public async Task StreamTextAsync(string path, TextWriter output, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException or null)
        {
            throw Unreachable(e.InnerException is SocketException s ? Describe(s.SocketErrorCode) : e.Message);
        }
        catch (HttpRequestException e) when (e.InnerException is AuthenticationException)
        {
            throw NotTrusted(e);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                JsonNode? body = null;
                try
                {
                    body = text.Length == 0 ? null : JsonNode.Parse(text);
                }
                catch (JsonException)
                {
                }

                throw FromStatus(response.StatusCode, body, text, _target);
            }

            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
            var buffer = new char[4096];
            int read;
            while ((read = await reader.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<JsonNode?> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        var text = await SendForTextAsync(method, path, content, cancellationToken).ConfigureAwait(false);
        try
        {
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            throw NotJson();
        }
    }

    private async Task<string> SendForTextAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(60));
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, deadline.Token).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException or null)
        {
            throw Unreachable(e.InnerException is SocketException s ? Describe(s.SocketErrorCode) : e.Message);
        }
        catch (HttpRequestException e) when (e.InnerException is AuthenticationException)
        {
            throw NotTrusted(e);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unreachable("no answer within 60s");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return text;
            }

            JsonNode? body = null;
            try
            {
                body = text.Length == 0 ? null : JsonNode.Parse(text);
            }
            catch (JsonException)
            {
            }

            throw FromStatus(response.StatusCode, body, text, _target);
        }
    }

    private CliException NotJson() =>
        new($"error: the control plane at {Server} sent something that is not JSON; is --server pointing at Meshgate?");

    private CliException Unreachable(string why) =>
        new($"error: cannot reach the Meshgate control plane at {Server} ({why}); start it with './meshgate up' (or 'meshgate controlplane'), or point KUBECONFIG (or --server) at it");

    private CliException NotTrusted(HttpRequestException e) => _target.Authority is null
        ? new($"error: the control plane at {Server} presented a certificate, and no certificate authority to check it was given (the kubeconfig's certificate-authority-data, or --certificate-authority): {e.InnerException?.Message}")
        : new($"error: the control plane at {Server} presented a certificate not trusted by the certificate authority of {_target.Source}: {_untrusted ?? e.InnerException?.Message}");

    private static string Describe(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.TimedOut => "timed out",
        SocketError.HostNotFound or SocketError.NoData => "host not found",
        _ => error.ToString(),
    };

    /// <summary>kubectl's form: <c>Error from server (NotFound): ...</c>; validation errors one per line.</summary>
    private static CliException FromStatus(HttpStatusCode code, JsonNode? body, string text, ApiTarget target)
    {
        var reason = body?["reason"]?.ToString() ?? code.ToString();
        var message = body?["message"]?.ToString() ?? (text.Length > 0 ? text : code.ToString());
        if (code == HttpStatusCode.Unauthorized)
        {
            return new CliException(target.Token is null
                ? $"error: the credential in KUBECONFIG was refused: {message} ({target.Source} has no token for {target.Server}; use the kubeconfig 'meshgate up' wrote, DATA/kubeconfig)"
                : $"error: the credential in KUBECONFIG was refused: {message} (the token of {target.Source}, by {target.Server}; use the kubeconfig this control plane wrote, DATA/kubeconfig)");
        }

        if (reason == "Invalid" && body?["details"]?["causes"] is JsonArray { Count: > 0 } causes)
        {
            var lines = causes.Select(c => "error: " + c?["message"]).ToList();
            if (causes.Count > 1)
            {
                lines.Add($"error: {causes.Count} errors; nothing was applied");
            }

            return new CliException(string.Join('\n', lines));
        }

        return new CliException($"Error from server ({reason}): {message}");
    }

    public void Dispose() => _http.Dispose();
}
