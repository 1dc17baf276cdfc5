using System.Text;
using System.Text.Json.Nodes;
using Meshgate.Core.Yaml;
using Meshgate.Tests.EndToEnd;
using Xunit;

namespace Meshgate.Tests.Kubernetes;

/// <summary>
/// Who may use the resource API: the kubeconfig the control plane writes (HTTPS with the mesh root, the admin token)
/// serves the real kubectl; without the token, or with a wrong one, curl and kubectl get 401 on every kind of request
/// (reads, writes, watches, the exec upgrade) and nothing changes.
/// </summary>
public sealed class ApiAccessTests : IAsyncLifetime
{
    private const string Pod = """
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "sleep-7d9f8", "namespace": "default", "annotations": {"meshgate.io/netns": "mgex-absent"}},
         "spec": {"containers": [{"name": "sleep", "image": "curlimages/curl", "command": ["/bin/sleep", "infinity"]}]},
         "status": {"phase": "Running", "podIP": "10.244.0.7"}}
        """;

    private const string ExecPath = "/api/v1/namespaces/default/pods/sleep-7d9f8/exec?command=true&container=sleep&stdout=true&stderr=true";

    private readonly KubectlHarness _k = new();

    public async Task InitializeAsync()
    {
        await _k.InitializeAsync();
        _k.Cli.StorePod(Pod);
        await File.WriteAllTextAsync(RootFile, _k.Cli.Server.RootBundle);
    }

    public Task DisposeAsync() => _k.DisposeAsync();

    /// <summary>The mesh root as a PEM file, for <c>curl --cacert</c>.</summary>
    private string RootFile => Path.Combine(_k.Home, "root-cert.pem");

    private string Token => File.ReadAllText(Path.Combine(_k.Cli.DataDirectory, "admin-token")).Trim();

    private string Api => _k.Cli.Server.ApiAddress.ToString().TrimEnd('/');

    /// <summary>A request with curl, trusting only the mesh root: the status code, then the body.</summary>
    private async Task<(int Status, string Body)> CurlAsync(string method, string path, string? authorization, params string[] extra)
    {
        string[] header = authorization is null ? [] : ["-H", "@" + await HeaderFileAsync(authorization)];

        var (code, output) = await Curl.RunAsync(
        [
            "-sS", "--http1.1", "--cacert", RootFile, "-X", method, "-o", "-", "-w", "\n%{http_code}",
            .. header, .. extra, Api + path,
        ]);
        Assert.True(code == 0, $"curl {method} {path}: exit {code}\n{output}");
        var split = output.LastIndexOf('\n');
        return (int.Parse(output[(split + 1)..], System.Globalization.CultureInfo.InvariantCulture), output[..split]);
    }

    /// <summary>The Authorization header in a file for <c>curl -H @FILE</c>, as a script sends it: a token on the command line is visible to ps.</summary>
    private async Task<string> HeaderFileAsync(string authorization)
    {
        var file = Path.Combine(_k.Home, $"authorization-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(file, "Authorization: " + authorization + "\n");
        return file;
    }

    public static TheoryData<string, string, string> Requests() => new()
    {
        { "list", "GET", "/api/v1/namespaces" },
        { "get", "GET", "/api/v1/namespaces/default" },
        { "discovery", "GET", "/api" },
        { "version", "GET", "/version" },
        { "openapi", "GET", "/openapi/v2" },
        { "watch", "GET", "/api/v1/namespaces?watch=true" },
        { "log", "GET", "/api/v1/namespaces/default/pods/sleep-7d9f8/log" },
        { "syncz", "GET", "/debug/syncz" },
        { "create", "POST", "/api/v1/namespaces" },
        { "replace", "PUT", "/api/v1/namespaces/default" },
        { "patch", "PATCH", "/api/v1/namespaces/default" },
        { "delete", "DELETE", "/api/v1/namespaces/default" },
        { "meshgate apply", "POST", "/apis/meshgate.io/v1/apply" },
        { "no such path", "GET", "/no/such/path" },
    };

    public static TheoryData<string, string, string, string> RequestsWithBadCredentials()
    {
        var data = new TheoryData<string, string, string, string>();
        foreach (var request in Requests())
        {
            var (what, method, path) = ((string)request[0], (string)request[1], (string)request[2]);
            data.Add(what, method, path, "none");
            data.Add(what, method, path, "wrong token");
        }

        return data;
    }

    /// <summary>The Authorization header each case sends; "none" sends none.</summary>
    private string? Authorization(string credential) => credential switch
    {
        "none" => null,
        "wrong token" => "Bearer " + new string(Token.Reverse().ToArray()),
        "token without Bearer" => Token,
        "basic" => "Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes("admin:" + Token)),
        "token and more" => "Bearer " + Token + "x",
        _ => throw new ArgumentOutOfRangeException(nameof(credential)),
    };

    private const string NamespaceBody = """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"intruder"}}""";

    [Theory]
    [MemberData(nameof(RequestsWithBadCredentials))]
    public async Task WithoutTheToken_EveryRequestIs401_AndChangesNothing(string what, string method, string path, string credential)
    {
        string[] body = method is "GET" or "DELETE" ? [] : ["-H", "Content-Type: " + (method == "PATCH" ? "application/merge-patch+json" : "application/json"), "--data", NamespaceBody];

        var (status, answer) = await CurlAsync(method, path, Authorization(credential), body);

        Assert.True(status == 401, $"{what} ({method} {path}) with credential '{credential}': {status}\n{answer}");
        var json = JsonNode.Parse(answer)!;
        Assert.Equal(("Status", "v1", "Failure", "Unauthorized", 401),
            (json["kind"]!.GetValue<string>(), json["apiVersion"]!.GetValue<string>(), json["status"]!.GetValue<string>(), json["reason"]!.GetValue<string>(), json["code"]!.GetValue<int>()));
        Assert.DoesNotContain(Token, answer, StringComparison.Ordinal);

        // Nothing was written: default is still there, unlabelled, and no intruder was created.
        var (getStatus, namespaces) = await CurlAsync("GET", "/api/v1/namespaces", "Bearer " + Token);
        Assert.Equal(200, getStatus);
        var names = JsonNode.Parse(namespaces)!["items"]!.AsArray().Select(n => n!["metadata"]!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("default", names);
        Assert.DoesNotContain("intruder", names);
    }

    [Theory]
    [InlineData("token without Bearer")]
    [InlineData("basic")]
    [InlineData("token and more")]
    public async Task OnlyTheBearerTokenItselfIsAccepted(string credential)
    {
        var (status, answer) = await CurlAsync("GET", "/api/v1/namespaces", Authorization(credential));

        Assert.Equal(401, status);
        Assert.Equal("Unauthorized", JsonNode.Parse(answer)!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheTokenOpensTheSameRequests()
    {
        foreach (var (what, method, path) in new[] { ("list", "GET", "/api/v1/namespaces"), ("discovery", "GET", "/api"), ("version", "GET", "/version"), ("syncz", "GET", "/debug/syncz") })
        {
            var (status, answer) = await CurlAsync(method, path, "Bearer " + Token);
            Assert.True(status == 200, $"{what}: {status}\n{answer}");
        }

        // The scheme is case-insensitive, as kube-apiserver's.
        Assert.Equal(200, (await CurlAsync("GET", "/api/v1/namespaces/default", "bearer " + Token)).Status);

        var (created, body) = await CurlAsync("POST", "/api/v1/namespaces", "Bearer " + Token, "-H", "Content-Type: application/json", "--data", NamespaceBody);
        Assert.True(created == 201, body);
    }

    /// <summary>A WebSocket upgrade to <c>pods/exec</c>, as kubectl sends it: refused before it is upgraded.</summary>
    [Fact]
    public async Task TheExecUpgradeWithoutTheTokenIs401()
    {
        string[] upgrade =
        [
            "-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13",
            "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "-H", "Sec-WebSocket-Protocol: v5.channel.k8s.io",
        ];

        foreach (var credential in new[] { "none", "wrong token" })
        {
            var (status, answer) = await CurlAsync("GET", ExecPath, Authorization(credential), upgrade);
            Assert.True(status == 401, $"{credential}: {status}\n{answer}");
            Assert.Equal("Unauthorized", JsonNode.Parse(answer)!["reason"]!.GetValue<string>());
        }

        // With the token the same request reaches pods/exec (which then fails for its own reasons: no such netns here).
        var (allowed, reason) = await CurlAsync("GET", ExecPath, "Bearer " + Token, upgrade);
        Assert.True(allowed is not 401 and not 101, $"{allowed}\n{reason}");
    }

    [Fact]
    public async Task HealthProbesStayOpen_AndSayOnlyOk()
    {
        foreach (var path in new[] { "/healthz", "/readyz" })
        {
            Assert.Equal((200, "ok"), await CurlAsync("GET", path, null));
        }

        // Only those exact paths and GET: anything near them is closed.
        foreach (var (method, path) in new[] { ("POST", "/healthz"), ("GET", "/healthz/extra"), ("GET", "/livez") })
        {
            Assert.Equal(401, (await CurlAsync(method, path, null)).Status);
        }
    }

    /// <summary>The discovery listener (which pods reach) serves the gRPC services only: not the API, token or not.</summary>
    [Fact]
    public async Task TheDiscoveryPortDoesNotServeTheApi()
    {
        var header = await HeaderFileAsync("Bearer " + Token);
        foreach (var path in new[] { "/api/v1/namespaces", "/apis/meshgate.io/v1/apply", "/debug/syncz", "/version", "/healthz" })
        {
            var (code, output) = await Curl.RunAsync("-sS", "--http2-prior-knowledge", "-H", "@" + header, "-o", "/dev/null", "-w", "%{http_code}",
                $"http://127.0.0.1:{_k.Cli.Server.DiscoveryEndPoint.Port}{path}");
            Assert.True((code, output) == (0, "404"), $"{path}: exit {code} {output}");
        }
    }

    [Fact]
    public async Task PlainHttpIsNotServed()
    {
        var (code, output) = await Curl.RunAsync("-sS", "-o", "/dev/null", "-w", "%{http_code}", Api.Replace("https://", "http://", StringComparison.Ordinal) + "/api/v1/namespaces");
        Assert.False(code == 0 && output.StartsWith('2'), $"plain HTTP answered: exit {code} {output}");
    }

    [Fact]
    public async Task TheKubeconfig_IsHttpsWithTheMeshRootAndTheToken_0600()
    {
        var kubeconfig = YamlReader.Read(await File.ReadAllTextAsync(_k.KubeconfigPath), _k.KubeconfigPath)[0].Root!;
        var cluster = kubeconfig["clusters"]![0]!["cluster"]!;
        Assert.Equal(Api, cluster["server"]!.GetValue<string>());
        Assert.StartsWith("https://127.0.0.1:", Api, StringComparison.Ordinal);
        Assert.Equal(_k.Cli.Server.RootBundle, Encoding.ASCII.GetString(Convert.FromBase64String(cluster["certificate-authority-data"]!.GetValue<string>())));
        Assert.Equal(Token, kubeconfig["users"]![0]!["user"]!["token"]!.GetValue<string>());
        Assert.True(Token.Length >= 40, "the token is 32 random bytes");

        const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(ownerOnly, OperatingSystem.IsWindows() ? ownerOnly : File.GetUnixFileMode(_k.KubeconfigPath));
        Assert.Equal(ownerOnly, OperatingSystem.IsWindows() ? ownerOnly : File.GetUnixFileMode(Path.Combine(_k.Cli.DataDirectory, "admin-token")));
    }

    [Fact]
    public async Task Kubectl_WithTheKubeconfig_Works()
    {
        Assert.Contains("default", await _k.OkAsync("get", "ns"), StringComparison.Ordinal);
        Assert.Contains("sleep-7d9f8", await _k.OkAsync("get", "pods"), StringComparison.Ordinal);
    }

    /// <summary>A user without any credential: kubectl asks for a user name (stdin is empty here) and sends nothing.</summary>
    [Fact]
    public async Task Kubectl_WithAUserWithoutCredential_SendsNothing()
    {
        var text = await File.ReadAllTextAsync(_k.KubeconfigPath);
        var kubeconfig = Path.Combine(_k.Home, "no-user.kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, text[..text.IndexOf("users:", StringComparison.Ordinal)] + "users:\n- name: meshgate-admin\n  user: {}\n");

        var result = await _k.RunAsync("--kubeconfig", kubeconfig, "create", "namespace", "intruder");

        Assert.True(result.ExitCode == 1 && result.Out.Contains("Please enter Username", StringComparison.Ordinal), result.ToString());
        Assert.DoesNotContain("intruder", await _k.OkAsync("get", "ns", "-o", "name"), StringComparison.Ordinal);
    }

    /// <summary>
    /// The same kubeconfig with another credential: a made-up token, or a user name and password (a user without any
    /// credential makes kubectl itself ask for one before sending anything, as against kube-apiserver). kubectl is
    /// refused on every verb and nothing changes.
    /// </summary>
    [Theory]
    [InlineData("wrong token")]
    [InlineData("user name and password")]
    public async Task Kubectl_WithoutTheToken_IsRefusedEverywhere(string credential)
    {
        var text = await File.ReadAllTextAsync(_k.KubeconfigPath);
        var user = text[text.IndexOf("users:", StringComparison.Ordinal)..];
        var changed = text.Replace(user, credential == "wrong token"
            ? "users:\n- name: meshgate-admin\n  user:\n    token: " + new string(Token.Reverse().ToArray()) + "\n"
            : "users:\n- name: meshgate-admin\n  user: {username: admin, password: admin}\n", StringComparison.Ordinal);
        Assert.NotEqual(text, changed);
        var kubeconfig = Path.Combine(_k.Home, "no-token.kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, changed);
        var manifest = Path.Combine(_k.Home, "intruder.yaml");
        await File.WriteAllTextAsync(manifest, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: intruder\n");

        string[][] commands =
        [
            ["get", "ns"],
            ["get", "ns", "default", "-o", "yaml"],
            ["get", "ns", "--watch", "--request-timeout=20s"],
            ["apply", "-f", manifest],
            ["create", "namespace", "intruder"],
            ["delete", "ns", "default", "--wait=false"],
            ["label", "ns", "default", "owned=yes"],
            ["exec", "sleep-7d9f8", "-c", "sleep", "--", "true"],
            ["version"],
            ["auth", "can-i", "create", "namespaces"],
        ];
        foreach (var command in commands)
        {
            // The second --kubeconfig (the harness passes its own first) wins; before exec's "--".
            var result = await _k.RunAsync(["--kubeconfig", kubeconfig, .. command]);
            Assert.True(result.ExitCode != 0, $"kubectl {string.Join(' ', command)} with '{credential}' succeeded\n{result}");
            Assert.True(
                result.Error.Contains("You must be logged in to the server", StringComparison.Ordinal)
                || result.Error.Contains("the server has asked for the client to provide credentials", StringComparison.Ordinal),
                $"kubectl {string.Join(' ', command)} with '{credential}'\n{result}");
        }

        var namespaces = await _k.OkAsync("get", "ns", "-o", "name");
        Assert.Contains("namespace/default", namespaces, StringComparison.Ordinal);
        Assert.DoesNotContain("intruder", namespaces, StringComparison.Ordinal);
        Assert.DoesNotContain("owned", await _k.OkAsync("get", "ns", "default", "-o", "jsonpath={.metadata.labels}"), StringComparison.Ordinal);
    }
}
