using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Meshgate.Tests.Commands;
using Xunit;

namespace Meshgate.Tests.ControlPlane;

/// <summary>The resource API answers bad requests with a Kubernetes Status and keeps serving.</summary>
public sealed class ResourceApiTests : IAsyncLifetime
{
    private readonly CliHarness _harness = new();
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        await _harness.InitializeAsync();
        _http = _harness.CreateHttpClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _harness.DisposeAsync();
    }

    public static TheoryData<string, string, string?, HttpStatusCode, string> BadRequests() => new()
    {
        { "POST", "/apis/meshgate.io/v1/apply", "{bad", HttpStatusCode.BadRequest, "request body is not valid JSON" },
        { "POST", "/apis/meshgate.io/v1/apply", "{\"files\":null}", HttpStatusCode.BadRequest, "no objects passed to apply" },
        { "POST", "/apis/meshgate.io/v1/apply", "{\"files\":[null]}", HttpStatusCode.BadRequest, "no objects passed to apply" },
        { "POST", "/apis/meshgate.io/v1/apply", "[1,2,3]", HttpStatusCode.BadRequest, "request body is not valid JSON" },
        { "POST", "/apis/meshgate.io/v1/apply", "{\"files\":[{\"source\":\"x\",\"text\":\"kind: [\"}]}", HttpStatusCode.UnprocessableEntity, "error parsing input: x: line " },
        { "POST", "/apis/meshgate.io/v1/label", "{\"resource\":\"ns\",\"name\":\"default\"}", HttpStatusCode.OK, "not labeled" },
        { "POST", "/apis/meshgate.io/v1/label", "{}", HttpStatusCode.BadRequest, "label needs resource and name" },
        // Found while fixing the null label value fuzzing found (fuzz/README.md): a null in "set" was a 500.
        { "POST", "/apis/meshgate.io/v1/label", "{\"resource\":\"ns\",\"name\":\"default\",\"set\":{\"a\":null}}", HttpStatusCode.UnprocessableEntity, "invalid label: the value of a is null" },
        { "POST", "/apis/meshgate.io/v1/delete", "{\"files\":[]}", HttpStatusCode.BadRequest, "no objects passed to delete" },
        { "GET", "/apis/nothing.example.com/v1/things", null, HttpStatusCode.NotFound, "could not find the requested resource" },
        { "GET", "/apis/networking.istio.io/v9/serviceentries", null, HttpStatusCode.NotFound, "could not find the requested resource" },
        { "GET", "/api/v1/namespaces/default/namespaces", null, HttpStatusCode.BadRequest, "namespaces is not namespaced" },
        { "GET", "/apis/networking.istio.io/v1/serviceentries?labelSelector=a%20in%20(", null, HttpStatusCode.BadRequest, "invalid label selector" },
        { "DELETE", "/api/v1/namespaces", null, HttpStatusCode.MethodNotAllowed, "deleting every Namespace at once is not allowed" },
        { "PUT", "/apis/networking.istio.io/v1/namespaces/default/serviceentries", "{}", HttpStatusCode.MethodNotAllowed, "does not allow this method" },
        { "PATCH", "/api/v1/namespaces/default", "{}", HttpStatusCode.UnsupportedMediaType, "application/merge-patch+json" },
        { "DELETE", "/api/v1/namespaces/kube-system", null, HttpStatusCode.Forbidden, "may not be deleted" },
        { "GET", "/no/such/path", null, HttpStatusCode.NotFound, "NotFound" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Send_BadRequest_AnswersStatusAndKeepsServing(string method, string path, string? body, HttpStatusCode expected, string message)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(expected, response.StatusCode);
        Assert.Contains(message, text);
        if (expected != HttpStatusCode.OK)
        {
            Assert.Equal("Status", JsonNode.Parse(text)!["kind"]!.ToString());
        }

        Assert.Equal("ok", await _http.GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task Watch_AfterApply_StreamsTheChangeAsJsonLines()
    {
        var revision = JsonNode.Parse(await _http.GetStringAsync("/version"))!["revision"]!.GetValue<long>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var stream = await _http.GetStreamAsync($"/apis/meshgate.io/v1/watch?revision={revision}", timeout.Token);
        using var reader = new StreamReader(stream);

        await _harness.OkAsync("create", "namespace", "watched");
        // The control plane's own writes at start (GatewayClass istio's status) may come first.
        JsonNode change;
        do
        {
            change = JsonNode.Parse((await reader.ReadLineAsync(timeout.Token))!)!;
        }
        while (change["object"]!["kind"]!.ToString() != "Namespace");

        Assert.Equal("ADDED", change["type"]!.ToString());
        Assert.True(change["revision"]!.GetValue<long>() > revision);
        Assert.Equal("watched", change["object"]!["metadata"]!["name"]!.ToString());
    }
}
