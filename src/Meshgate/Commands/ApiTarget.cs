using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Meshgate.Core.Yaml;

namespace Meshgate.Commands;

/// <summary>
/// Where the resource API is and how to prove who we are, resolved as kubectl resolves it: <c>--server</c>,
/// <c>--token</c> and <c>--certificate-authority</c> first, the rest from the kubeconfig (<c>--kubeconfig</c>, else
/// <c>$KUBECONFIG</c>, else <c>.meshgate/kubeconfig</c>, which <c>meshgate up</c> writes).
/// </summary>
/// <param name="Server">The API's base address.</param>
/// <param name="Token">The bearer token sent with every request; null sends none.</param>
/// <param name="Authority">The certificates the server's must chain to (only these are trusted); null for plain HTTP.</param>
/// <param name="Source">Where the credential came from, for messages: <c>KUBECONFIG (/path)</c>, <c>--token</c>...</param>
public sealed record ApiTarget(Uri Server, string? Token, X509Certificate2Collection? Authority, string Source)
{
    /// <summary>Where <c>meshgate up</c> and <c>meshgate controlplane</c> write the kubeconfig by default (their <c>--data</c>).</summary>
    public static readonly string DefaultKubeconfig = Path.Combine(".meshgate", "kubeconfig");

    public static ApiTarget Resolve(ParseResult parse) => Resolve(
        parse.GetValue(CommonOptions.Server) ?? (Environment.GetEnvironmentVariable("MESHGATE_SERVER") is { Length: > 0 } server ? server : null),
        parse.GetValue(CommonOptions.Token),
        parse.GetValue(CommonOptions.CertificateAuthority),
        parse.GetValue(CommonOptions.Kubeconfig),
        Environment.GetEnvironmentVariable("KUBECONFIG"));

    public static ApiTarget Resolve(string? server, string? token, string? authorityFile, string? kubeconfigOption, string? kubeconfigVariable)
    {
        var (path, source) = FindKubeconfig(kubeconfigOption, kubeconfigVariable);
        var fromFile = path is null ? null : Kubeconfig.Read(path);
        if (server is null && fromFile?.Server is null)
        {
            throw new CliException(path is null
                ? $"error: no kubeconfig found (--kubeconfig, KUBECONFIG{(string.IsNullOrEmpty(kubeconfigVariable) ? "" : "=" + kubeconfigVariable)}, or {DefaultKubeconfig}, which 'meshgate up' writes); start the control plane with './meshgate up', or point KUBECONFIG at the kubeconfig it wrote (DATA/kubeconfig)"
                : $"error: the kubeconfig {path} names no server (clusters[].cluster.server of the current context)");
        }

        var address = ParseServer(server ?? fromFile!.Server!, server is not null ? "--server" : $"the kubeconfig {path}");
        var authority = authorityFile is not null ? ReadAuthority(authorityFile, "--certificate-authority") : fromFile?.Authority;
        var credentialSource = token is not null ? "--token" : source ?? "--server";
        return new ApiTarget(address, token ?? fromFile?.Token, authority, credentialSource);
    }

    /// <summary>
    /// A handler that trusts only <see cref="Authority"/> (not the system's roots) and checks the name, as kubectl does;
    /// <paramref name="checkedCertificate"/> hears why a certificate was refused (null when it was trusted).
    /// </summary>
    public SocketsHttpHandler CreateHandler(Action<string?>? checkedCertificate = null)
    {
        var handler = new SocketsHttpHandler();
        if (Authority is { } authority)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, sent, errors) =>
            {
                var why = ApiTrust.Check(certificate as X509Certificate2, sent?.ChainPolicy.ExtraStore, errors, authority);
                checkedCertificate?.Invoke(why);
                return why is null;
            };
        }

        return handler;
    }

    /// <summary>An HTTP client for the API: its base address, its trust, and the token on every request.</summary>
    public HttpClient CreateHttpClient(TimeSpan timeout) => CreateHttpClient(CreateHandler(), timeout);

    internal HttpClient CreateHttpClient(SocketsHttpHandler handler, TimeSpan timeout)
    {
        var http = new HttpClient(handler) { BaseAddress = Server, Timeout = timeout };
        if (Token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        }

        return http;
    }

    /// <summary>The API as a kubeconfig file describes it (tests and the demo's own requests).</summary>
    public static ApiTarget FromKubeconfig(string path) => Resolve(null, null, null, path, null);

    private static (string? Path, string? Source) FindKubeconfig(string? option, string? variable)
    {
        if (option is not null)
        {
            return File.Exists(option)
                ? (Path.GetFullPath(option), $"--kubeconfig ({Path.GetFullPath(option)})")
                : throw new CliException($"error: --kubeconfig {option}: no such file");
        }

        if (!string.IsNullOrEmpty(variable))
        {
            // KUBECONFIG is a list (':' on Unix); kubectl merges them, here the first file that exists is used whole.
            foreach (var entry in variable.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                if (File.Exists(entry))
                {
                    return (Path.GetFullPath(entry), $"KUBECONFIG ({Path.GetFullPath(entry)})");
                }
            }

            // As kubectl: a KUBECONFIG naming no existing file is an empty configuration (then "no kubeconfig found").
            return (null, null);
        }

        return File.Exists(DefaultKubeconfig)
            ? (Path.GetFullPath(DefaultKubeconfig), $"the kubeconfig {Path.GetFullPath(DefaultKubeconfig)}")
            : (null, null);
    }

    private static Uri ParseServer(string text, string where)
    {
        // kubectl takes a bare host:port as https.
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "https://" + text;
        return Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new CliException($"error: {where}: server \"{text}\" is not an https:// (or http://) address");
    }

    internal static X509Certificate2Collection ReadAuthority(string file, string where)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"error: {where} {file}: {e.Message}");
        }

        return ParseAuthority(pem, $"{where} {file}");
    }

    internal static X509Certificate2Collection ParseAuthority(string pem, string where)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(pem);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new CliException($"error: {where}: not PEM certificates: {e.Message}");
        }

        return certificates.Count > 0 ? certificates : throw new CliException($"error: {where}: holds no PEM certificate");
    }

    /// <summary>The parts of a kubeconfig the CLI uses: the current context's cluster and user.</summary>
    private sealed record Kubeconfig(string? Server, string? Token, X509Certificate2Collection? Authority)
    {
        public static Kubeconfig Read(string path)
        {
            JsonNode? root;
            try
            {
                root = YamlReader.Read(File.ReadAllText(path), path) is [var document, ..] ? document.Root : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or YamlFormatException)
            {
                throw new CliException($"error: cannot read the kubeconfig {path}: {e.Message}");
            }

            var current = root?["current-context"]?.GetValue<string>()
                ?? throw new CliException($"error: the kubeconfig {path} has no current-context");
            var context = Named(root, "contexts", current, path)?["context"];
            var clusterName = context?["cluster"]?.GetValue<string>();
            var userName = context?["user"]?.GetValue<string>();
            var cluster = clusterName is null ? null : Named(root, "clusters", clusterName, path)?["cluster"];
            var user = userName is null ? null : Named(root, "users", userName, path)?["user"];
            var directory = Path.GetDirectoryName(path)!;

            X509Certificate2Collection? authority = null;
            if (cluster?["certificate-authority-data"]?.GetValue<string>() is { } data)
            {
                string pem;
                try
                {
                    pem = Encoding.ASCII.GetString(Convert.FromBase64String(data));
                }
                catch (FormatException)
                {
                    throw new CliException($"error: the kubeconfig {path}: clusters[{clusterName}].cluster.certificate-authority-data is not base64");
                }

                authority = ParseAuthority(pem, $"the kubeconfig {path}: clusters[{clusterName}].cluster.certificate-authority-data");
            }
            else if (cluster?["certificate-authority"]?.GetValue<string>() is { } file)
            {
                authority = ReadAuthority(Path.Combine(directory, file), $"the kubeconfig {path}: clusters[{clusterName}].cluster.certificate-authority");
            }

            var token = user?["token"]?.GetValue<string>();
            if (token is null && user?["tokenFile"]?.GetValue<string>() is { } tokenFile)
            {
                try
                {
                    token = File.ReadAllText(Path.Combine(directory, tokenFile)).Trim();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new CliException($"error: the kubeconfig {path}: users[{userName}].user.tokenFile: {e.Message}");
                }
            }

            return new Kubeconfig(cluster?["server"]?.GetValue<string>(), token, authority);
        }

        private static JsonNode? Named(JsonNode? root, string list, string name, string path)
        {
            foreach (var item in root?[list] as JsonArray ?? [])
            {
                if (item?["name"]?.GetValue<string>() == name)
                {
                    return item;
                }
            }

            throw new CliException($"error: the kubeconfig {path}: {list} has no entry named \"{name}\" (the current context refers to it)");
        }
    }
}
