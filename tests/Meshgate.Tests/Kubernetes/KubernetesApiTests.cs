using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Meshgate.Core.Resources;
using Meshgate.Tests.Commands;
using Xunit;

namespace Meshgate.Tests.Kubernetes;

/// <summary>The Kubernetes API over HTTP, as kube-apiserver answers: discovery, OpenAPI, verbs, errors as Status.</summary>
public sealed class KubernetesApiTests : IAsyncLifetime
{
    private const string SePath = "/apis/networking.istio.io/v1/namespaces/default/serviceentries";
    private const string Cnn = """{"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": {"name": "cnn", "labels": {"app": "cnn"}}, "spec": {"hosts": ["edition.cnn.com"], "resolution": "DNS", "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]}}""";

    private readonly CliHarness _cli = new();
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        await _cli.InitializeAsync();
        _http = _cli.CreateHttpClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _cli.DisposeAsync();
    }

    private async Task<(HttpStatusCode Code, JsonNode? Body, HttpResponseMessage Response)> SendAsync(string method, string path, string? body = null, string contentType = "application/json", string? accept = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response);
    }

    private static void AssertStatus(JsonNode? body, string reason, int code)
    {
        Assert.Equal("Status", body!["kind"]!.ToString());
        Assert.Equal("Failure", body["status"]!.ToString());
        Assert.Equal(reason, body["reason"]!.ToString());
        Assert.Equal(code, body["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task PodExec_RefusesBeforeTheUpgrade_AsKubeApiserverAndTheKubeletDo()
    {
        const string Pod = """{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "sleep", "image": "curl", "command": ["/bin/sleep", "infinity"]}]}}""";
        var (created, _, _) = await SendAsync("POST", "/api/v1/namespaces/default/pods", Pod);
        Assert.Equal(HttpStatusCode.Created, created);

        var (code, body, _) = await SendAsync("GET", "/api/v1/namespaces/default/pods/missing/exec?command=true&stdout=true");
        Assert.Equal(HttpStatusCode.NotFound, code);
        AssertStatus(body, "NotFound", 404);

        (code, body, _) = await SendAsync("GET", "/api/v1/namespaces/default/pods/p/exec?stdout=true");
        AssertStatus(body, "BadRequest", 400);

        (code, body, _) = await SendAsync("GET", "/api/v1/namespaces/default/pods/p/exec?command=true&container=nope&stdout=true");
        AssertStatus(body, "BadRequest", 400);
        Assert.Equal("container nope is not valid for pod p", body!["message"]!.ToString());

        // Not a pod of the local cluster: no network namespace to run in. The same answer to kubectl's SPDY fallback (POST).
        foreach (var method in new[] { "GET", "POST" })
        {
            (code, body, _) = await SendAsync(method, "/api/v1/namespaces/default/pods/p/exec?command=true&container=sleep&stdout=true");
            AssertStatus(body, "BadRequest", 400);
            Assert.Contains("exec needs a pod that 'meshgate up --cluster' runs", body!["message"]!.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Discovery_LegacyLists_DescribeEveryKind()
    {
        var versions = (await SendAsync("GET", "/api")).Body!;
        var groups = (await SendAsync("GET", "/apis")).Body!;
        var istio = (await SendAsync("GET", "/apis/networking.istio.io/v1")).Body!;
        var core = (await SendAsync("GET", "/api/v1")).Body!;

        Assert.Equal("APIVersions", versions["kind"]!.ToString());
        Assert.Equal("v1", versions["versions"]![0]!.ToString());
        Assert.Equal("APIGroupList", groups["kind"]!.ToString());
        var names = ((JsonArray)groups["groups"]!).Select(g => g!["name"]!.ToString()).ToList();
        Assert.True(names.IndexOf("networking.istio.io") < names.IndexOf("gateway.networking.k8s.io"), "Istio's group comes first, so gateway means Istio's Gateway");
        Assert.DoesNotContain("meshgate.io", names);
        var gatewayApi = ((JsonArray)groups["groups"]!).Single(g => g!["name"]!.ToString() == "gateway.networking.k8s.io")!;
        Assert.Equal("gateway.networking.k8s.io/v1", gatewayApi["preferredVersion"]!["groupVersion"]!.ToString());
        var se = ((JsonArray)istio["resources"]!).Single(r => r!["name"]!.ToString() == "serviceentries")!;
        Assert.Equal("ServiceEntry", se["kind"]!.ToString());
        Assert.True(se["namespaced"]!.GetValue<bool>());
        Assert.Equal(["se"], ((JsonArray)se["shortNames"]!).Select(n => n!.ToString()));
        Assert.Contains("watch", ((JsonArray)se["verbs"]!).Select(n => n!.ToString()));
        Assert.Contains(((JsonArray)istio["resources"]!), r => r!["name"]!.ToString() == "serviceentries/status");
        Assert.Contains(((JsonArray)core["resources"]!), r => r!["name"]!.ToString() == "pods/log");
    }

    [Fact]
    public async Task Discovery_AggregatedWhenAskedFor()
    {
        const string accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
        var (_, apis, response) = await SendAsync("GET", "/apis", accept: accept);
        var (_, api, _) = await SendAsync("GET", "/api", accept: accept);

        Assert.Equal("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", response.Content.Headers.ContentType!.ToString().Replace(" ", "", StringComparison.Ordinal));
        Assert.Equal("APIGroupDiscoveryList", apis!["kind"]!.ToString());
        var gateway = ((JsonArray)apis["items"]!).Single(i => i!["metadata"]!["name"]?.ToString() == "gateway.networking.k8s.io")!;
        var v1 = ((JsonArray)gateway["versions"]!).First()!;
        Assert.Equal("v1", v1["version"]!.ToString());
        var gtw = ((JsonArray)v1["resources"]!).Single(r => r!["resource"]!.ToString() == "gateways")!;
        Assert.Equal("Namespaced", gtw["scope"]!.ToString());
        Assert.Equal(["gtw"], ((JsonArray)gtw["shortNames"]!).Select(n => n!.ToString()));
        Assert.Equal("status", gtw["subresources"]![0]!["subresource"]!.ToString());
        var pods = ((JsonArray)api!["items"]![0]!["versions"]![0]!["resources"]!).Single(r => r!["resource"]!.ToString() == "pods")!;
        Assert.Equal(["all"], ((JsonArray)pods["categories"]!).Select(n => n!.ToString()));
    }

    [Fact]
    public async Task OpenApi_V3_HasTheKindsSchemaAndFieldValidation()
    {
        var index = (await SendAsync("GET", "/openapi/v3")).Body!;
        var url = index["paths"]!["apis/networking.istio.io/v1"]!["serverRelativeURL"]!.ToString();
        var document = (await SendAsync("GET", url)).Body!;

        Assert.StartsWith("/openapi/v3/apis/networking.istio.io/v1?hash=", url);
        Assert.NotNull(index["paths"]!["api/v1"]);
        var patch = document["paths"]!["/apis/networking.istio.io/v1/namespaces/{namespace}/serviceentries/{name}"]!["patch"]!;
        Assert.Equal("ServiceEntry", patch["x-kubernetes-group-version-kind"]!["kind"]!.ToString());
        Assert.Contains(((JsonArray)patch["parameters"]!), p => p!["name"]!.ToString() == "fieldValidation" && p["in"]!.ToString() == "query");
        Assert.Null(patch["requestBody"]!["content"]!["application/strategic-merge-patch+json"]);
        Assert.NotNull(patch["requestBody"]!["content"]!["application/merge-patch+json"]);
        var schema = document["components"]!["schemas"]!["io.istio.networking.v1.ServiceEntry"]!;
        Assert.Equal("ServiceEntry", schema["x-kubernetes-group-version-kind"]![0]!["kind"]!.ToString());
        var resolution = schema["properties"]!["spec"]!["properties"]!["resolution"]!;
        Assert.Contains("DNS_ROUND_ROBIN", ((JsonArray)resolution["enum"]!).Select(v => v!.ToString()));
        Assert.StartsWith("Service resolution mode", resolution["description"]!.ToString());

        var core = (await SendAsync("GET", index["paths"]!["api/v1"]!["serverRelativeURL"]!.ToString())).Body!;
        var containers = core["components"]!["schemas"]!["io.k8s.api.core.v1.PodSpec"]!["properties"]!["containers"]!;
        Assert.Equal("merge", containers["x-kubernetes-patch-strategy"]!.ToString());
        Assert.Equal("name", containers["x-kubernetes-patch-merge-key"]!.ToString());
    }

    [Fact]
    public async Task OpenApi_V2_IsGnosticProtobufWhenAsked()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v2");
        request.Headers.TryAddWithoutValidation("Accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf");
        using var response = await _http.SendAsync(request);
        var document = Openapi.V2.Document.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());

        Assert.Equal("application/com.github.proto-openapi.spec.v2.v1.0+protobuf", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("2.0", document.Swagger);
        var se = document.Definitions.AdditionalProperties.Single(d => d.Name == "io.istio.networking.v1.ServiceEntry").Value;
        Assert.Contains(se.VendorExtension, e => e.Name == "x-kubernetes-group-version-kind" && e.Value.Yaml.Contains("ServiceEntry", StringComparison.Ordinal));
        var definitions = document.Definitions.AdditionalProperties.Select(d => d.Name).ToHashSet();
        foreach (var reference in AllReferences(document))
        {
            Assert.Contains(reference["#/definitions/".Length..], definitions);
        }

        var patch = document.Paths.Path.Single(p => p.Name == "/api/v1/namespaces/{namespace}/pods/{name}").Value.Patch;
        Assert.Contains("application/strategic-merge-patch+json", patch.Consumes);
    }

    private static IEnumerable<string> AllReferences(Openapi.V2.Document document)
    {
        static IEnumerable<string> Walk(Openapi.V2.Schema? schema)
        {
            if (schema is null)
            {
                yield break;
            }

            if (schema.Ref.Length > 0)
            {
                yield return schema.Ref;
            }

            foreach (var child in (schema.Properties?.AdditionalProperties.Select(p => p.Value) ?? []).Concat(schema.Items?.Schema ?? []).Concat(schema.AllOf).Append(schema.AdditionalProperties?.Schema))
            {
                foreach (var reference in Walk(child))
                {
                    yield return reference;
                }
            }
        }

        return document.Definitions.AdditionalProperties.SelectMany(d => Walk(d.Value));
    }

    [Fact]
    public async Task Create_ThenGetListAndTable()
    {
        var (code, created, _) = await SendAsync("POST", SePath, Cnn);
        var (again, exists, _) = await SendAsync("POST", SePath, Cnn);
        var (_, got, _) = await SendAsync("GET", SePath + "/cnn");
        var (_, list, _) = await SendAsync("GET", SePath + "?labelSelector=app%3Dcnn");
        var (_, none, _) = await SendAsync("GET", "/apis/networking.istio.io/v1/serviceentries?fieldSelector=metadata.name%3Dother");
        var (_, table, tableResponse) = await SendAsync("GET", SePath, accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json");

        Assert.Equal(HttpStatusCode.Created, code);
        Assert.NotNull(created!["metadata"]!["uid"]);
        Assert.Equal(HttpStatusCode.Conflict, again);
        AssertStatus(exists, "AlreadyExists", 409);
        Assert.Equal("serviceentries.networking.istio.io \"cnn\" already exists", exists!["message"]!.ToString());
        Assert.Equal(created["metadata"]!["resourceVersion"]!.ToString(), got!["metadata"]!["resourceVersion"]!.ToString());
        Assert.Equal("ServiceEntryList", list!["kind"]!.ToString());
        Assert.Single((JsonArray)list["items"]!);
        Assert.Empty((JsonArray)none!["items"]!);
        Assert.Equal("Table", table!["kind"]!.ToString());
        Assert.Equal("meta.k8s.io/v1", table["apiVersion"]!.ToString());
        Assert.Contains("as=Table", tableResponse.Content.Headers.ContentType!.ToString());
        Assert.Equal(["Name", "Hosts", "Location", "Resolution", "Age"], ((JsonArray)table["columnDefinitions"]!).Select(c => c!["name"]!.ToString()));
        var row = table["rows"]![0]!;
        Assert.Equal("cnn", row["cells"]![0]!.ToString());
        Assert.Equal("[\"edition.cnn.com\"]", row["cells"]![1]!.ToString());
        Assert.Equal("PartialObjectMetadata", row["object"]!["kind"]!.ToString());
        Assert.Equal("default", row["object"]!["metadata"]!["namespace"]!.ToString());
    }

    [Fact]
    public async Task Create_InvalidObject_Is422WithTheFieldsAndNothingIsStored()
    {
        var (code, status, _) = await SendAsync("POST", SePath, Cnn.Replace("\"DNS\"", "\"dns\"", StringComparison.Ordinal).Replace("80", "70000", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, code);
        AssertStatus(status, "Invalid", 422);
        Assert.Equal("ServiceEntry", status!["details"]!["kind"]!.ToString());
        Assert.Equal("cnn", status["details"]!["name"]!.ToString());
        var cause = status["details"]!["causes"]![0]!;
        Assert.Equal("spec.resolution", cause["field"]!.ToString());
        Assert.StartsWith("\"dns\" is not one of NONE, STATIC, DNS", cause["message"]!.ToString());
        Assert.Empty(_cli.Server.Store.Current.List(ResourceTypes.ServiceEntry));
    }

    [Fact]
    public async Task Update_WithAStaleResourceVersion_IsAConflict()
    {
        var created = (await SendAsync("POST", SePath, Cnn)).Body!;
        var update = (JsonObject)created.DeepClone();
        update["spec"]!["resolution"] = "STATIC";
        update["spec"]!["endpoints"] = new JsonArray(new JsonObject { ["address"] = "10.0.0.1" });
        var (ok, updated, _) = await SendAsync("PUT", SePath + "/cnn", update.ToJsonString());
        var (stale, conflict, _) = await SendAsync("PUT", SePath + "/cnn", update.ToJsonString());
        var (notFound, missing, _) = await SendAsync("PUT", SePath + "/other", update.ToJsonString().Replace("\"cnn\"", "\"other\"", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal("2", updated!["metadata"]!["generation"]!.ToString());
        Assert.Equal(HttpStatusCode.Conflict, stale);
        AssertStatus(conflict, "Conflict", 409);
        Assert.Contains("the object has been modified", conflict!["message"]!.ToString());
        Assert.Equal(HttpStatusCode.NotFound, notFound);
        AssertStatus(missing, "NotFound", 404);
    }

    // Found by fuzzing (fuzz/README.md): a name repeated in one object parsed, then threw ArgumentException (500) when
    // the patch or the schema check enumerated the object. Now the body is refused as JSON (400), as kubectl's strict
    // field validation refuses a duplicate field.
    [Fact]
    public async Task Write_NameRepeatedInAnObject_BadRequest()
    {
        await SendAsync("POST", SePath, Cnn);
        var (patch, patchStatus, _) = await SendAsync("PATCH", SePath + "/cnn", """{"spec": {"resolution": "DNS", "resolution": "NONE"}}""", "application/merge-patch+json");
        var (create, createStatus, _) = await SendAsync("POST", SePath, """{"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "kind": "ServiceEntry", "metadata": {"name": "x"}}""");

        Assert.Equal(HttpStatusCode.BadRequest, patch);
        Assert.Contains("resolution", patchStatus!["message"]!.ToString());
        Assert.Equal(HttpStatusCode.BadRequest, create);
        Assert.Contains("kind", createStatus!["message"]!.ToString());
    }

    // Found by fuzzing the body readers (fuzz/README.md): a TokenRequest field of another type, a body that is not an
    // object, a name given twice, or a continue token that repeats a name threw from the field lookups (500).
    [Theory]
    [InlineData("""{"spec": {"boundObjectRef": {"kind": "Pod", "name": 5}}}""")]
    [InlineData("""{"spec": {"boundObjectRef": {"kind": "Pod", "name": "p"}, "expirationSeconds": "long"}}""")]
    [InlineData("""{"spec": ["boundObjectRef"]}""")]
    [InlineData("""[1]""")]
    [InlineData("""{"spec": {}, "spec": {}}""")]
    public async Task TokenRequest_BodyOfTheWrongShape_BadRequest(string body)
    {
        var (code, status, _) = await SendAsync("POST", "/api/v1/namespaces/default/serviceaccounts/default/token", body);

        Assert.Equal(HttpStatusCode.BadRequest, code);
        AssertStatus(status, "BadRequest", 400);
    }

    [Fact]
    public async Task List_ContinueTokenRepeatingAName_BadRequest()
    {
        var token = Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"ns": "default", "ns": "other", "start": "a"}"""));

        var (code, status, _) = await SendAsync("GET", $"/api/v1/namespaces/default/configmaps?limit=2&continue={Uri.EscapeDataString(token)}");

        Assert.Equal(HttpStatusCode.BadRequest, code);
        Assert.Contains("continue key is not valid", status!["message"]!.ToString());
    }

    [Fact]
    public async Task Patch_EachPatchType_AndDryRunStoresNothing()
    {
        await SendAsync("POST", SePath, Cnn);
        var (merge, merged, _) = await SendAsync("PATCH", SePath + "/cnn", """{"spec": {"resolution": "DNS_ROUND_ROBIN"}}""", "application/merge-patch+json");
        var (json, patched, _) = await SendAsync("PATCH", SePath + "/cnn", """[{"op": "add", "path": "/spec/hosts/-", "value": "www.cnn.com"}]""", "application/json-patch+json");
        var (strategic, refused, _) = await SendAsync("PATCH", SePath + "/cnn", "{}", "application/strategic-merge-patch+json");
        var (dry, dryRun, _) = await SendAsync("PATCH", SePath + "/cnn?dryRun=All", """{"spec": {"resolution": "NONE"}}""", "application/merge-patch+json");
        var (invalid, status, _) = await SendAsync("PATCH", SePath + "/cnn", """{"spec": {"resolution": "SOMETIMES"}}""", "application/merge-patch+json");

        Assert.Equal(HttpStatusCode.OK, merge);
        Assert.Equal("DNS_ROUND_ROBIN", merged!["spec"]!["resolution"]!.ToString());
        Assert.Equal(HttpStatusCode.OK, json);
        Assert.Equal(["edition.cnn.com", "www.cnn.com"], ((JsonArray)patched!["spec"]!["hosts"]!).Select(h => h!.ToString()));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, strategic);
        AssertStatus(refused, "UnsupportedMediaType", 415);
        Assert.Equal(HttpStatusCode.OK, dry);
        Assert.Equal("NONE", dryRun!["spec"]!["resolution"]!.ToString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid);
        Assert.Equal("spec.resolution", status!["details"]!["causes"]![0]!["field"]!.ToString());
        var stored = _cli.Server.Store.Current.Get(new ObjectKey(ResourceTypes.ServiceEntry, "default", "cnn"))!;
        Assert.Equal("DNS_ROUND_ROBIN", stored.Json["spec"]!["resolution"]!.ToString());
        Assert.Equal(patched["metadata"]!["resourceVersion"]!.ToString(), stored.Metadata["resourceVersion"]!.ToString());
    }

    [Fact]
    public async Task Patch_StrategicMerge_MergesContainersByName()
    {
        const string deployment = """
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
             "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
               "spec": {"containers": [{"name": "web", "image": "nginx:1", "env": [{"name": "A", "value": "1"}]}, {"name": "log", "image": "busybox"}]}}}}
            """;
        await SendAsync("POST", "/apis/apps/v1/namespaces/default/deployments", deployment);

        var (code, patched, _) = await SendAsync("PATCH", "/apis/apps/v1/namespaces/default/deployments/web",
            """{"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "log"}, {"name": "web"}], "containers": [{"name": "web", "image": "nginx:2", "env": [{"name": "B", "value": "2"}]}]}}}}""",
            "application/strategic-merge-patch+json");

        Assert.Equal(HttpStatusCode.OK, code);
        var containers = (JsonArray)patched!["spec"]!["template"]!["spec"]!["containers"]!;
        Assert.Equal(["log", "web"], containers.Select(c => c!["name"]!.ToString()));
        Assert.Equal("nginx:2", containers[1]!["image"]!.ToString());
        Assert.Equal(["A", "B"], ((JsonArray)containers[1]!["env"]!).Select(e => e!["name"]!.ToString()));
    }

    [Fact]
    public async Task StatusSubresource_WritesStatusOnly_AndTheObjectKeepsIt()
    {
        await SendAsync("POST", SePath, Cnn);
        var (code, withStatus, _) = await SendAsync("PATCH", SePath + "/cnn/status", """{"status": {"conditions": [{"type": "Reconciled", "status": "True"}]}, "spec": {"resolution": "NONE"}}""", "application/merge-patch+json");
        var (_, updated, _) = await SendAsync("PATCH", SePath + "/cnn", """{"status": {"conditions": []}, "spec": {"resolution": "STATIC", "endpoints": [{"address": "10.0.0.1"}]}}""", "application/merge-patch+json");
        var (_, status, _) = await SendAsync("GET", SePath + "/cnn/status");

        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal("Reconciled", withStatus!["status"]!["conditions"]![0]!["type"]!.ToString());
        Assert.Equal("DNS", withStatus["spec"]!["resolution"]!.ToString());
        Assert.Equal("STATIC", updated!["spec"]!["resolution"]!.ToString());
        Assert.Equal("Reconciled", updated["status"]!["conditions"]![0]!["type"]!.ToString());
        Assert.Equal("Reconciled", status!["status"]!["conditions"]![0]!["type"]!.ToString());
    }

    [Fact]
    public async Task FieldValidation_WarnDropsUnknownFieldsWithAWarningHeader()
    {
        var body = Cnn.Replace("\"resolution\": \"DNS\"", "\"resolution\": \"DNS\", \"hostz\": []", StringComparison.Ordinal);
        var (strict, refused, _) = await SendAsync("POST", SePath + "?fieldValidation=Strict", body);
        var (warned, created, response) = await SendAsync("POST", SePath + "?fieldValidation=Warn", body);
        var (bad, status, _) = await SendAsync("POST", SePath + "?fieldValidation=Sometimes", body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, strict);
        Assert.Equal("spec.hostz", refused!["details"]!["causes"]![0]!["field"]!.ToString());
        Assert.Equal(HttpStatusCode.Created, warned);
        Assert.Null(created!["spec"]!["hostz"]);
        Assert.StartsWith("299 - \"spec.hostz: unknown field \\\"hostz\\\"", response.Headers.GetValues("Warning").Single());
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        AssertStatus(status, "BadRequest", 400);
    }

    [Fact]
    public async Task DeleteCollection_ByLabelSelector_DeletesOnlyThose()
    {
        await SendAsync("POST", SePath, Cnn);
        await SendAsync("POST", SePath, Cnn.Replace("\"cnn\"", "\"other\"", StringComparison.Ordinal).Replace("\"app\": \"cnn\"", "\"app\": \"other\"", StringComparison.Ordinal));

        var (code, deleted, _) = await SendAsync("DELETE", SePath + "?labelSelector=app%3Dcnn", """{"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}""");
        var (gone, notFound, _) = await SendAsync("DELETE", SePath + "/cnn");
        var (badPolicy, _, _) = await SendAsync("DELETE", SePath + "/other", """{"propagationPolicy": "Sometimes"}""");

        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal(["cnn"], ((JsonArray)deleted!["items"]!).Select(i => i!["metadata"]!["name"]!.ToString()));
        Assert.Equal(HttpStatusCode.NotFound, gone);
        AssertStatus(notFound, "NotFound", 404);
        Assert.Equal(HttpStatusCode.BadRequest, badPolicy);
        Assert.Equal(["other"], _cli.Server.Store.Current.List(ResourceTypes.ServiceEntry).Select(r => r.Name));
    }

    [Fact]
    public async Task List_WithLimit_ContinuesWhereItStopped()
    {
        foreach (var name in new[] { "a", "b", "c" })
        {
            await SendAsync("POST", "/api/v1/namespaces/default/configmaps", $$"""{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "{{name}}"} }""");
        }

        var first = (await SendAsync("GET", "/api/v1/namespaces/default/configmaps?limit=2")).Body!;
        var token = first["metadata"]!["continue"]!.ToString();
        var rest = (await SendAsync("GET", $"/api/v1/namespaces/default/configmaps?limit=2&continue={Uri.EscapeDataString(token)}")).Body!;

        Assert.Equal(["a", "b"], ((JsonArray)first["items"]!).Select(i => i!["metadata"]!["name"]!.ToString()));
        Assert.Equal(["c"], ((JsonArray)rest["items"]!).Select(i => i!["metadata"]!["name"]!.ToString()));
        Assert.Null(rest["metadata"]!["continue"]);
    }

    [Fact]
    public async Task Watch_WithInitialEvents_SendsTheObjectsThenTheEndBookmark_AsTableRowsWhenAsked()
    {
        await SendAsync("POST", SePath, Cnn);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{SePath}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        using var tableRequest = new HttpRequestMessage(HttpMethod.Get, $"{SePath}?watch=true&resourceVersion=0");
        tableRequest.Headers.TryAddWithoutValidation("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
        using var tableResponse = await _http.SendAsync(tableRequest, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var tableReader = new StreamReader(await tableResponse.Content.ReadAsStreamAsync(timeout.Token));

        var added = JsonNode.Parse((await reader.ReadLineAsync(timeout.Token))!)!;
        var bookmark = JsonNode.Parse((await reader.ReadLineAsync(timeout.Token))!)!;
        var row = JsonNode.Parse((await tableReader.ReadLineAsync(timeout.Token))!)!;
        await SendAsync("PATCH", SePath + "/cnn", """{"metadata": {"labels": {"x": "y"}}}""", "application/merge-patch+json");
        var modified = JsonNode.Parse((await tableReader.ReadLineAsync(timeout.Token))!)!;

        Assert.Equal("ADDED", added["type"]!.ToString());
        Assert.Equal("BOOKMARK", bookmark["type"]!.ToString());
        Assert.Equal("true", bookmark["object"]!["metadata"]!["annotations"]!["k8s.io/initial-events-end"]!.ToString());
        Assert.Equal("ADDED", row["type"]!.ToString());
        Assert.Equal("Table", row["object"]!["kind"]!.ToString());
        Assert.Equal("cnn", row["object"]!["rows"]![0]!["cells"]![0]!.ToString());
        Assert.NotEmpty((JsonArray)row["object"]!["columnDefinitions"]!);
        Assert.Equal("MODIFIED", modified["type"]!.ToString());
        Assert.Empty((JsonArray)modified["object"]!["columnDefinitions"]!);
        Assert.Equal("y", modified["object"]!["rows"]![0]!["object"]!["metadata"]!["labels"]!["x"]!.ToString());
    }

    [Fact]
    public async Task Watch_FromAVersionTheFeedNoLongerHas_Is410Expired_AndWatchStreamsEvents()
    {
        var created = (await SendAsync("POST", SePath, Cnn)).Body!;
        var version = long.Parse(created["metadata"]!["resourceVersion"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var stream = await _http.GetStreamAsync($"{SePath}?watch=true&resourceVersion={version - 1}", timeout.Token);
        using var reader = new StreamReader(stream);

        var added = JsonNode.Parse((await reader.ReadLineAsync(timeout.Token))!)!;
        await SendAsync("DELETE", SePath + "/cnn");
        var deleted = JsonNode.Parse((await reader.ReadLineAsync(timeout.Token))!)!;

        Assert.Equal("ADDED", added["type"]!.ToString());
        Assert.Equal("cnn", added["object"]!["metadata"]!["name"]!.ToString());
        Assert.Equal("DELETED", deleted["type"]!.ToString());
        Assert.True(long.Parse(deleted["object"]!["metadata"]!["resourceVersion"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture) > version);

        // The feed keeps the latest 10,000 changes: a watch from before them is told to list again.
        _cli.Server.Store.Apply(Enumerable.Range(0, 10_001).Select(i => new Resource(ResourceTypes.ConfigMap, (JsonObject)JsonNode.Parse($$"""{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm-{{i}}", "namespace": "default"} }""")!)).ToList());
        var (expired, status, _) = await SendAsync("GET", $"{SePath}?watch=true&resourceVersion={version}");
        Assert.Equal(HttpStatusCode.Gone, expired);
        AssertStatus(status, "Expired", 410);
    }
}
