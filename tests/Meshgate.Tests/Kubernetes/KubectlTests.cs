using System.Diagnostics;
using System.Text.Json.Nodes;
using Meshgate.Core.Resources;
using Meshgate.Core.Yaml;
using Xunit;

namespace Meshgate.Tests.Kubernetes;

/// <summary>The real kubectl against the control plane's Kubernetes API: the seed's commands as the Istio docs write them.</summary>
public sealed class KubectlTests : IAsyncLifetime
{
    private readonly KubectlHarness _k = new();

    public Task InitializeAsync() => _k.InitializeAsync();

    public Task DisposeAsync() => _k.DisposeAsync();

    private static string Seed(string file) => Path.Combine(TestPaths.TestData, "Seed", file);

    private static string Sample(string file) => Path.Combine(TestPaths.RepositoryRoot, "samples", file);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_k.Home, name);
        File.WriteAllText(path, text);
        return path;
    }

    private Task<string> CreateNamespaceAsync(string name) =>
        _k.OkAsync("apply", "-f", Write($"ns-{name}.yaml", $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"));

    public static TheoryData<string> Files() =>
    [
        .. Directory.GetFiles(Path.Combine(TestPaths.TestData, "Seed"), "*.yaml").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal),
        "samples/sleep.yaml", "samples/egress/http-cnn.yaml", "samples/egress/https-cnn.yaml",
    ];

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Apply_SeedOrSample_CreatesThenUnchangedThenConfigured(string file)
    {
        var path = file.StartsWith("samples/", StringComparison.Ordinal) ? Path.Combine(TestPaths.RepositoryRoot, file) : Seed(file);
        await CreateNamespaceAsync("test-egress");

        var first = await _k.OkAsync("apply", "-f", path);
        var again = await _k.OkAsync("apply", "-f", path);

        var lines = first.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, line => Assert.EndsWith(" created", line));
        var unchanged = again.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(lines.Length, unchanged.Length);
        Assert.All(unchanged, line => Assert.EndsWith(" unchanged", line));

        // An edit (a label on every object) is configured, and what kubectl stored is what the store holds.
        var documents = YamlReader.Read(await File.ReadAllTextAsync(path), path).Select(d => (JsonObject)d.Root!).ToList();
        foreach (var document in documents)
        {
            var metadata = (JsonObject)document["metadata"]!;
            var labels = metadata["labels"] as JsonObject ?? [];
            labels["edited"] = "true";
            metadata["labels"] = labels;
        }

        var edited = Write("edited.yaml", string.Join("---\n", documents.Select(YamlWriter.Write)));
        var configured = (await _k.OkAsync("apply", "-f", edited)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(lines.Length, configured.Length);
        Assert.All(configured, line => Assert.EndsWith(" configured", line));
        foreach (var document in documents)
        {
            var apiVersion = document["apiVersion"]!.ToString();
            var type = ResourceTypes.Find(apiVersion.Contains('/') ? apiVersion[..apiVersion.IndexOf('/')] : "", document["kind"]!.ToString())!;
            var key = new ObjectKey(type, type.Namespaced ? document["metadata"]!["namespace"]?.ToString() ?? "default" : "", document["metadata"]!["name"]!.ToString());
            var stored = _k.Cli.Server.Store.Current.Get(key);
            Assert.True(stored is not null, $"{key} is not stored");
            Assert.Equal("true", stored.Labels["edited"]);
        }
    }

    [Fact]
    public async Task Get_IstioAndGatewayApiKinds_PrintTheTablesMeshgatePrints()
    {
        await _k.OkAsync("apply", "-f", Sample("egress/http-cnn.yaml"));
        await _k.OkAsync("apply", "-f", Seed("http-gatewayapi-gateway.yaml"));

        var istio = await _k.OkAsync("get", "se,gw,vs,dr");
        var gateway = await _k.OkAsync("get", "gtw");

        Assert.Contains("NAME                                   HOSTS                 LOCATION   RESOLUTION   AGE", istio);
        Assert.Contains("serviceentry.networking.istio.io/cnn   [\"edition.cnn.com\"]              DNS", istio);
        Assert.Contains("gateway.networking.istio.io/istio-egressgateway", istio);
        Assert.Contains("virtualservice.networking.istio.io/direct-cnn-through-egress-gateway   [\"istio-egressgateway\",\"mesh\"]   [\"edition.cnn.com\"]", istio);
        Assert.Contains("destinationrule.networking.istio.io/egressgateway-for-cnn   istio-egressgateway.istio-system.svc.cluster.local", istio);
        Assert.Matches("^NAME +CLASS +ADDRESS +PROGRAMMED +AGE\ncnn-egress-gateway +istio ", gateway);
        var meshgate = await _k.Cli.OkAsync("get", "gtw");
        Assert.Equal(Header(meshgate), Header(gateway));
        Assert.Equal(Header(await _k.Cli.OkAsync("get", "se")), Header(await _k.OkAsync("get", "se")));
        Assert.Equal(Header(await _k.Cli.OkAsync("get", "svc", "-A", "-o", "wide")), Header(await _k.OkAsync("get", "svc", "-A", "-o", "wide")));

        // The column names (their widths follow the values, and the Gateway's status may be written between the two reads).
        static string Header(string table) => string.Join('|', System.Text.RegularExpressions.Regex.Split(table.Split('\n')[0].Trim(), " {2,}"));
    }

    [Fact]
    public async Task GetPod_ByLabelAsJsonPath_PrintsItsName()
    {
        _k.Cli.StorePod("""
            {"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": "istio-egressgateway-7f8d9-x2x4k", "namespace": "istio-system", "labels": {"istio": "egressgateway", "app": "istio-egressgateway"}},
             "spec": {"containers": [{"name": "istio-proxy", "image": "meshgate"}], "serviceAccountName": "istio-egressgateway-service-account"},
             "status": {"phase": "Running", "podIP": "127.0.0.1"}}
            """);

        var name = await _k.OkAsync("get", "pod", "-l", "istio=egressgateway", "-n", "istio-system", "-o", "jsonpath={.items[0].metadata.name}");
        var table = await _k.OkAsync("get", "pods", "-n", "istio-system");

        Assert.Equal("istio-egressgateway-7f8d9-x2x4k", name);
        Assert.StartsWith("NAME                              READY   STATUS    RESTARTS   AGE\nistio-egressgateway-7f8d9-x2x4k   1/1     Running   0", table);
    }

    [Fact]
    public async Task Create_ThroughKubectlsTypedClients_ReadsTheirProtobufBodies()
    {
        Assert.Equal("namespace/test-egress created\n", await _k.OkAsync("create", "namespace", "test-egress"));
        Assert.Equal("secret/s created\n", await _k.OkAsync("create", "secret", "generic", "s", "-n", "test-egress", "--from-literal=key=value"));
        Assert.Equal("configmap/c created\n", await _k.OkAsync("create", "configmap", "c", "--from-literal=x=y", "--from-literal=empty="));
        Assert.Equal("deployment.apps/web created\n", await _k.OkAsync("create", "deployment", "web", "--image=nginx", "--replicas=2", "--port=80"));
        Assert.Equal("service/web exposed\n", await _k.OkAsync("expose", "deployment", "web", "--port=8080", "--target-port=80"));
        _k.Cli.StorePod("""
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sleep-1", "namespace": "default"},
             "spec": {"containers": [{"name": "sleep", "image": "curl"}], "serviceAccountName": "default"}, "status": {"phase": "Running"}}
            """);
        var token = await _k.OkAsync("create", "token", "default", "--bound-object-kind", "Pod", "--bound-object-name", "sleep-1");
        Assert.Equal("deployment.apps/web scaled\n", await _k.OkAsync("scale", "deployment", "web", "--replicas=3"));
        Assert.Equal("deployment.apps/web scaled\n", await _k.OkAsync("scale", "deployment", "web", "--replicas=2", "--current-replicas=3"));
        var again = await _k.RunAsync("create", "namespace", "test-egress");

        var store = _k.Cli.Server.Store.Current;
        Assert.True(store.NamespaceExists("test-egress"));
        Assert.Equal("dmFsdWU=", store.Get(new ObjectKey(ResourceTypes.Secret, "test-egress", "s"))!.Json["data"]!["key"]!.ToString());
        AssertJson("""{"empty": "", "x": "y"}""", store.Get(new ObjectKey(ResourceTypes.ConfigMap, "default", "c"))!.Json["data"]);
        AssertJson("""{"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"image": "nginx", "name": "nginx", "ports": [{"containerPort": 80}]}]}}}""",
            store.Get(new ObjectKey(ResourceTypes.Deployment, "default", "web"))!.Json["spec"]);
        AssertJson("""{"ports": [{"port": 8080, "protocol": "TCP", "targetPort": 80}], "selector": {"app": "web"}}""", store.Get(new ObjectKey(ResourceTypes.Service, "default", "web"))!.Json["spec"]);
        Assert.StartsWith("ey", token);
        Assert.Contains("Error from server (AlreadyExists): namespaces \"test-egress\" already exists", again.Error);

        static void AssertJson(string expected, JsonNode? actual) =>
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}\nactual   {actual?.ToJsonString()}");
    }

    [Fact]
    public async Task Label_Namespace_SetsThenRemovesTheLabel()
    {
        Assert.Equal("namespace/default labeled\n", await _k.OkAsync("label", "namespace", "default", "gateway=true"));
        Assert.Equal("true", await _k.OkAsync("get", "ns", "default", "-o", "jsonpath={.metadata.labels.gateway}"));
        var stored = _k.Cli.Server.Store.Current.Get(new ObjectKey(ResourceTypes.Namespace, "", "default"))!;
        Assert.Equal("true", stored.Labels["gateway"]);

        Assert.Equal("namespace/default unlabeled\n", await _k.OkAsync("label", "namespace", "default", "gateway-"));
        Assert.Equal("", await _k.OkAsync("get", "ns", "default", "-o", "jsonpath={.metadata.labels.gateway}"));
        var overwrite = await _k.RunAsync("label", "namespace", "default", "kubernetes.io/metadata.name=other");
        Assert.NotEqual(0, overwrite.ExitCode);
        Assert.Contains("--overwrite is false", overwrite.Error);
    }

    [Fact]
    public async Task Delete_File_DeletesEveryObjectOfIt()
    {
        await _k.OkAsync("apply", "-f", Sample("egress/http-cnn.yaml"));

        var deleted = await _k.OkAsync("delete", "-f", Sample("egress/http-cnn.yaml"));

        Assert.Equal("""
            serviceentry.networking.istio.io "cnn" deleted
            gateway.networking.istio.io "istio-egressgateway" deleted
            destinationrule.networking.istio.io "egressgateway-for-cnn" deleted
            virtualservice.networking.istio.io "direct-cnn-through-egress-gateway" deleted

            """, deleted);
        Assert.Empty(_k.Cli.Server.Store.Current.List(ResourceTypes.ServiceEntry));
        var again = await _k.RunAsync("delete", "-f", Sample("egress/http-cnn.yaml"));
        Assert.Contains("Error from server (NotFound): error when deleting", again.Error);
        Assert.Contains("serviceentries.networking.istio.io \"cnn\" not found", again.Error);
    }

    [Fact]
    public async Task Explain_ServiceEntryResolution_PrintsTheFieldsDescription()
    {
        var text = await _k.OkAsync("explain", "serviceentry.spec.resolution");

        Assert.Contains("KIND:       ServiceEntry", text);
        Assert.Contains("FIELD: resolution <string>", text);
        Assert.Contains("DNS_ROUND_ROBIN", text);
        Assert.Contains("Service resolution mode for the hosts", text);
        // The same through OpenAPI v2 (gnostic protobuf).
        Assert.Contains("The hosts associated with the ServiceEntry", await _k.OkAsync("explain", "--output=plaintext-openapiv2", "serviceentry.spec"));
    }

    [Fact]
    public async Task Diff_EditedFile_ShowsTheChangeFromAServerDryRun()
    {
        await _k.OkAsync("apply", "-f", Seed("sleep.yaml"));
        var same = await _k.RunAsync("diff", "-f", Seed("sleep.yaml"));
        var edited = Write("sleep.yaml", (await File.ReadAllTextAsync(Seed("sleep.yaml"))).Replace("replicas: 1", "replicas: 3", StringComparison.Ordinal));

        var diff = await _k.RunAsync("diff", "-f", edited);

        Assert.True(same.ExitCode == 0, same.ToString());
        Assert.True(diff.ExitCode == 1, diff.ToString());
        Assert.Contains("-  replicas: 1\n+  replicas: 3", diff.Out);
        Assert.Equal(1, _k.Cli.Server.Store.Current.Get(new ObjectKey(ResourceTypes.Deployment, "default", "sleep"))!.Json["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task ApplyServerSide_OwnsFieldsAndRefusesAnotherManagersChangeUnlessForced()
    {
        var first = await _k.OkAsync("apply", "--server-side", "-f", Seed("http-serviceentry.yaml"));
        var again = await _k.OkAsync("apply", "--server-side", "-f", Seed("http-serviceentry.yaml"));
        var other = Write("se-dns-rr.yaml", (await File.ReadAllTextAsync(Seed("http-serviceentry.yaml"))).Replace("resolution: DNS", "resolution: DNS_ROUND_ROBIN", StringComparison.Ordinal));

        var conflict = await _k.RunAsync("apply", "--server-side", "--field-manager", "other", "-f", other);
        var forced = await _k.OkAsync("apply", "--server-side", "--field-manager", "other", "--force-conflicts", "-f", other);

        Assert.Equal("serviceentry.networking.istio.io/cnn serverside-applied\n", first);
        Assert.Equal("serviceentry.networking.istio.io/cnn serverside-applied\n", again);
        Assert.NotEqual(0, conflict.ExitCode);
        Assert.Contains("Apply failed with 1 conflict: conflict with \"kubectl\"", conflict.Error);
        Assert.Contains(".spec.resolution", conflict.Error);
        Assert.Equal("serviceentry.networking.istio.io/cnn serverside-applied\n", forced);
        var stored = _k.Cli.Server.Store.Current.Get(new ObjectKey(ResourceTypes.ServiceEntry, "default", "cnn"))!;
        Assert.Equal("DNS_ROUND_ROBIN", stored.Json["spec"]!["resolution"]!.ToString());
        var managers = ((JsonArray)stored.Metadata["managedFields"]!).Select(e => e!["manager"]!.ToString()).ToList();
        Assert.Contains("kubectl", managers);
        Assert.Contains("other", managers);
    }

    [Fact]
    public async Task GetWatch_SeesAChangeWithinASecond()
    {
        await _k.OkAsync("apply", "-f", Seed("http-serviceentry.yaml"));
        await using var watch = _k.Start("get", "se", "-w");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.StartsWith("NAME", await watch.ReadLineAsync(timeout.Token));
        Assert.StartsWith("cnn ", await watch.ReadLineAsync(timeout.Token));

        var changed = Stopwatch.StartNew();
        await _k.Cli.OkAsync("label", "se", "cnn", "watched=yes");
        var line = await watch.ReadLineAsync(timeout.Token);
        changed.Stop();

        Assert.True(line is not null, watch.Error);
        Assert.StartsWith("cnn ", line);
        Assert.True(changed.Elapsed < TimeSpan.FromSeconds(1), $"the change took {changed.Elapsed} to show");
        await _k.Cli.OkAsync("delete", "se", "cnn");
        Assert.StartsWith("cnn ", await watch.ReadLineAsync(timeout.Token));
    }

    [Fact]
    public async Task Apply_InvalidDocument_IsRefusedWithTheFieldPathAndNothingIsStored()
    {
        var bad = Write("bad.yaml", """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: bad
            spec:
              hosts: [example.com]
              resolution: dns
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: badport
            spec:
              hosts: [example.org]
              resolution: DNS
              ports:
              - number: 70000
                name: http
                protocol: HTTP
            """);
        var unknown = Write("unknown.yaml", """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: unknown
            spec:
              hosts: [example.net]
              resolution: DNS
              hostz: [typo.example.net]
            """);

        var result = await _k.RunAsync("apply", "-f", bad);
        var strict = await _k.RunAsync("apply", "-f", unknown);
        var stored = _k.Cli.Server.Store.Current.List(ResourceTypes.ServiceEntry);
        var warned = await _k.RunAsync("apply", "--validate=warn", "-f", unknown);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"Error from server (Invalid): error when creating \"{bad}\": ServiceEntry.networking.istio.io \"bad\" is invalid: spec.resolution: \"dns\" is not one of NONE, STATIC, DNS, DNS_ROUND_ROBIN, DYNAMIC_DNS; did you mean DNS?", result.Error);
        Assert.Contains("ServiceEntry.networking.istio.io \"badport\" is invalid: spec.ports[0].number: 70000 is not a port (1-65535)", result.Error);
        Assert.NotEqual(0, strict.ExitCode);
        Assert.Contains("spec.hostz: unknown field \"hostz\"; did you mean \"hosts\"?", strict.Error);
        Assert.Empty(stored);
        Assert.True(warned.ExitCode == 0, warned.ToString());
        Assert.Contains("Warning: spec.hostz: unknown field \"hostz\"", warned.Error);
        Assert.Null(_k.Cli.Server.Store.Current.Get(new ObjectKey(ResourceTypes.ServiceEntry, "default", "unknown"))!.Json["spec"]!["hostz"]);
    }
}
