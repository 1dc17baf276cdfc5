using System.Globalization;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Store;
using Meshgate.Core.Resources;
using Meshgate.Core.Validation;
using Xunit;

namespace Meshgate.Tests.ControlPlane;

/// <summary>
/// A large apply runs on every core (a large text read in parts, a large batch prepared in parallel): the result, the
/// errors and what is stored must be exactly what the one-pass, one-object-after-another path gives.
/// </summary>
public sealed class BulkApplyTests : IDisposable
{
    private const int Count = 1_000; // 2,000 objects, 430 KiB: above both thresholds

    private readonly string _data = Directory.CreateTempSubdirectory("meshgate-bulk-apply-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public void ParseText_LargeCleanText_ReadInPartsSameObjectsAsOnePass()
    {
        var yaml = ApplyScaleTests.Config(Count);
        Assert.NotNull(DocumentChunks.Split(yaml));

        var parts = ResourceParser.ParseText(yaml, "config.yaml");
        var whole = ResourceParser.ParseSequentially(yaml, "config.yaml", "default", false);

        Assert.Empty(parts.Errors);
        Assert.Equal(2 * Count, parts.Resources.Count);
        Assert.Equal(whole.Resources.Select(r => r.Key), parts.Resources.Select(r => r.Key));
        for (var i = 0; i < whole.Resources.Count; i++)
        {
            Assert.Equal(whole.Resources[i].Json.ToJsonString(), parts.Resources[i].Json.ToJsonString());
        }
    }

    [Fact]
    public void ParseText_ErrorsInALaterPart_SameMessagesLinesAndDocumentsAsOnePass()
    {
        var yaml = ApplyScaleTests.Config(Count);
        // A bad port near the end (in the last part) and an unknown field near the start: the messages count documents
        // and lines from the start of the whole text.
        var last = yaml.LastIndexOf("number: 80, name: http", StringComparison.Ordinal);
        yaml = yaml[..last] + "number: 0, name: http" + yaml[(last + "number: 80, name: http".Length)..];
        yaml = ReplaceFirst(yaml, "  resolution: DNS\n", "  resolution: DNS\n  colour: blue\n");

        var result = ResourceParser.ParseText(yaml, "config.yaml");
        var whole = ResourceParser.ParseSequentially(yaml, "config.yaml", "default", false);

        Assert.False(result.Ok);
        Assert.Equal(2, result.Errors.Count);
        Assert.Equal(whole.Errors.Select(e => e.ToString()), result.Errors.Select(e => e.ToString()));
        Assert.Contains("document 1999", result.Errors[1].ToString(), StringComparison.Ordinal);
        Assert.Equal(whole.Resources.Count, result.Resources.Count);
    }

    [Fact]
    public void ParseText_MalformedYamlInALaterPart_TheOnePassError()
    {
        var yaml = ApplyScaleTests.Config(Count) + "apiVersion: v1\nkind: [unclosed\n";

        var result = ResourceParser.ParseText(yaml, "config.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Equal(ResourceParser.ParseSequentially(yaml, "config.yaml", "default", false).Errors.Single().ToString(), error.ToString());
        Assert.Contains("config.yaml: line ", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(result.Resources);
    }

    [Theory]
    [InlineData("%YAML 1.2\n---\n")]
    [InlineData("base: &b {a: 1}\nmerged: {<<: *b}\n---\n")]
    [InlineData("\uFEFF")]
    public void Split_TextsItCannotBeSureOf_ReadWhole(string prefix) =>
        Assert.Null(DocumentChunks.Split(prefix + ApplyScaleTests.Config(Count)));

    [Fact]
    public void Split_PartsStartAtMarkerLinesAndMakeUpTheText()
    {
        var yaml = ApplyScaleTests.Config(Count);

        var parts = DocumentChunks.Split(yaml, parts: 3)!;

        Assert.Equal(3, parts.Count);
        Assert.Equal(yaml, string.Concat(parts));
        Assert.All(parts.Skip(1), p => Assert.StartsWith("---\n", p, StringComparison.Ordinal));
        Assert.Null(DocumentChunks.Split(ApplyScaleTests.Config(10))); // small: one pass
    }

    [Fact]
    public void Apply_LargeBatch_StoredAsOneByOne()
    {
        var resources = ResourceParser.ParseText(ApplyScaleTests.Config(Count), "config.yaml").Resources;
        using var parallel = ResourceStore.Open(Path.Combine(_data, "parallel"));
        using var oneByOne = ResourceStore.Open(Path.Combine(_data, "one-by-one"));
        Assert.True(resources.Count >= ResourceStore.ParallelApply);

        var outcomes = parallel.Apply(resources);
        // Below the threshold the batch goes one object after another: the reference.
        var reference = resources.Chunk(ResourceStore.ParallelApply - 1).SelectMany(chunk => oneByOne.Apply(chunk)).ToList();

        Assert.Equal(reference.Select(o => (o.Key, o.Action)), outcomes.Select(o => (o.Key, o.Action)));
        Assert.All(outcomes, o => Assert.Equal(ApplyAction.Created, o.Action));
        Assert.All(outcomes, o => Assert.Same(parallel.Current.Get(o.Key), o.Object));
        foreach (var outcome in outcomes)
        {
            Assert.Equal(Comparable(oneByOne.Current.Get(outcome.Key)!), Comparable(parallel.Current.Get(outcome.Key)!));
            Assert.Equal(parallel.Current.Revision.ToString(CultureInfo.InvariantCulture), outcome.Object.Metadata["resourceVersion"]!.GetValue<string>());
        }

        Assert.Equal(outcomes.Count, outcomes.Select(o => o.Object.Metadata["uid"]!.GetValue<string>()).Distinct().Count());

        // Again: nothing changes, no revision is taken; then one changed object among the unchanged is configured.
        var revision = parallel.Current.Revision;
        Assert.All(parallel.Apply(resources), o => Assert.Equal(ApplyAction.Unchanged, o.Action));
        Assert.Equal(revision, parallel.Current.Revision);
        var edited = ResourceParser.ParseText(ApplyScaleTests.Config(Count).Replace("timeout: 5s", "timeout: 6s", StringComparison.Ordinal), "config.yaml").Resources;
        var again = parallel.Apply(edited);
        Assert.Equal(Count, again.Count(o => o.Action == ApplyAction.Configured));
        Assert.Equal(revision + 1, parallel.Current.Revision);
        var virtualService = parallel.Current.Get(again.First(o => o.Action == ApplyAction.Configured).Key)!;
        Assert.Equal(2, virtualService.Metadata["generation"]!.GetValue<long>());

        // What was stored is what a restart reads.
        var stored = parallel.Current;
        parallel.Dispose();
        using var reopened = ResourceStore.Open(Path.Combine(_data, "parallel"));
        Assert.Equal(stored.Revision, reopened.Current.Revision);
        foreach (var outcome in outcomes)
        {
            Assert.Equal(stored.Get(outcome.Key)!.Json.ToJsonString(), reopened.Current.Get(outcome.Key)!.Json.ToJsonString());
        }
    }

    /// <summary>
    /// The API's apply parses without writing each object to text and reading it back (the store does that as it stores
    /// it): what is stored, the outcomes, and the re-apply and edit outcomes must be those of re-read objects.
    /// </summary>
    [Fact]
    public void Apply_ObjectsTheParserDidNotReRead_StoredAsReReadOnes()
    {
        // Numbers of the kinds the YAML reader makes (long, double), quoted and plain strings, booleans.
        const string Varied = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: varied
              labels: {tier: "1", plain: yes}
              annotations: {note: 'a "quoted" value'}
            spec:
              hosts: [varied.example.com]
              http:
              - name: faulty
                fault:
                  delay: {percentage: {value: 0.5}, fixedDelay: 5s}
                  abort: {percentage: {value: 1e1}, httpStatus: 503}
                retries: {attempts: 3, perTryTimeout: 2s, retryOn: "5xx,reset"}
                route:
                - destination: {host: varied.example.com, port: {number: 8080}}
                  weight: 100
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: varied
            spec:
              host: varied.example.com
              trafficPolicy:
                connectionPool: {tcp: {maxConnections: 100000}, http: {http2MaxRequests: 1000, useClientProtocol: true}}
                outlierDetection: {consecutive5xxErrors: 7, interval: 5m, baseEjectionTime: 15m, maxEjectionPercent: 100}

            """;
        var yaml = Varied + "---\n" + ApplyScaleTests.Config(Count);
        var reRead = ResourceParser.ParseText(yaml, "config.yaml");
        var asRead = ResourceParser.ParseText(yaml, "config.yaml", reRead: false);
        Assert.Empty(reRead.Errors);
        Assert.Empty(asRead.Errors);
        Assert.Equal(reRead.Resources.Select(r => r.Json.ToJsonString()), asRead.Resources.Select(r => r.Json.ToJsonString()));

        foreach (var batch in new[] { asRead.Resources, asRead.Resources.Take(3).ToList() }) // in parallel, and one by one
        {
            var name = batch.Count.ToString(CultureInfo.InvariantCulture);
            using var reference = ResourceStore.Open(Path.Combine(_data, "reference-" + name));
            using var store = ResourceStore.Open(Path.Combine(_data, "as-read-" + name));
            var expected = reference.Apply(reRead.Resources.Take(batch.Count).ToList());
            var outcomes = store.Apply(batch);

            Assert.Equal(expected.Select(o => (o.Key, o.Action)), outcomes.Select(o => (o.Key, o.Action)));
            foreach (var outcome in outcomes)
            {
                Assert.Equal(Comparable(reference.Current.Get(outcome.Key)!), Comparable(store.Current.Get(outcome.Key)!));
            }

            // Unchanged when applied again, in either form; numbers of the stored objects read as any numeric type.
            var revision = store.Current.Revision;
            Assert.All(store.Apply(batch), o => Assert.Equal(ApplyAction.Unchanged, o.Action));
            Assert.All(store.Apply(reRead.Resources.Take(batch.Count).ToList()), o => Assert.Equal(ApplyAction.Unchanged, o.Action));
            Assert.All(reference.Apply(batch), o => Assert.Equal(ApplyAction.Unchanged, o.Action));
            Assert.Equal(revision, store.Current.Revision);
            var varied = store.Current.Get(outcomes[0].Key)!;
            var destination = varied.Json["spec"]!["http"]![0]!["route"]![0]!;
            Assert.Equal(8080, destination["destination"]!["port"]!["number"]!.GetValue<int>());
            Assert.Equal(100L, destination["weight"]!.GetValue<long>());
            Assert.Equal(0.5, varied.Json["spec"]!["http"]![0]!["fault"]!["delay"]!["percentage"]!["value"]!.GetValue<double>());
            Assert.Equal(1, varied.Metadata["generation"]!.GetValue<int>());
        }

        // An edit is configured, with the next generation, as for re-read objects.
        using var edited = ResourceStore.Open(Path.Combine(_data, "edited"));
        edited.Apply(asRead.Resources);
        var changed = ResourceParser.ParseText(yaml.Replace("value: 0.5", "value: 0.25", StringComparison.Ordinal), "config.yaml", reRead: false).Resources;
        var again = edited.Apply(changed);
        Assert.Equal(ApplyAction.Configured, again[0].Action);
        Assert.Equal(again.Count - 1, again.Count(o => o.Action == ApplyAction.Unchanged));
        Assert.Equal(2L, edited.Current.Get(again[0].Key)!.Metadata["generation"]!.GetValue<long>());
    }

    [Fact]
    public void Apply_LargeBatchWithFailures_FirstFailureInOrderAndNothingStored()
    {
        using var store = ResourceStore.Open(_data);
        var resources = ResourceParser.ParseText(ApplyScaleTests.Config(Count), "config.yaml").Resources.ToList();
        // Object 700 in a namespace that does not exist, object 300 likewise: the error names 300, as one by one.
        resources[700] = InNamespace(resources[700], "missing-b");
        resources[300] = InNamespace(resources[300], "missing-a");
        var revision = store.Current.Revision;

        var error = Assert.Throws<StoreException>(() => store.Apply(resources));

        Assert.Equal(404, error.Code);
        Assert.Contains("missing-a", error.Message, StringComparison.Ordinal);
        Assert.Equal(revision, store.Current.Revision);
        Assert.Empty(store.Current.List(ResourceTypes.ServiceEntry));
    }

    [Fact]
    public void Apply_LargeBatchWithNamespaceOrTwiceTheSameKey_OneByOne()
    {
        using var store = ResourceStore.Open(_data);
        var resources = ResourceParser.ParseText(ApplyScaleTests.Config(Count), "config.yaml").Resources.ToList();
        var ns = ResourceParser.ParseText("apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n", "ns.yaml").Resources.Single();
        // The namespace first, then objects in it: they may be created because the namespace is, earlier in the batch.
        var batch = new List<Resource> { ns };
        batch.AddRange(resources.Select(r => InNamespace(r, "team")));
        batch.Add(InNamespace(resources[0], "team")); // the same key again at the end: unchanged the second time

        var outcomes = store.Apply(batch);

        Assert.Equal(ApplyAction.Created, outcomes[0].Action);
        Assert.Equal(ApplyAction.Unchanged, outcomes[^1].Action);
        Assert.Equal(Count, store.Current.List(ResourceTypes.ServiceEntry, "team").Count);
    }

    private static Resource InNamespace(Resource resource, string ns)
    {
        var json = (JsonObject)resource.Json.DeepClone();
        json["metadata"]!["namespace"] = ns;
        return new Resource(resource.Type, json);
    }

    /// <summary>The stored JSON less what differs by design between two stores: the uid and the creation time.</summary>
    private static string Comparable(Resource resource)
    {
        var json = (JsonObject)resource.Json.DeepClone();
        var metadata = (JsonObject)json["metadata"]!;
        metadata.Remove("uid");
        metadata.Remove("creationTimestamp");
        metadata.Remove("resourceVersion");
        return json.ToJsonString();
    }

    private static string ReplaceFirst(string text, string what, string with)
    {
        var at = text.IndexOf(what, StringComparison.Ordinal);
        return text[..at] + with + text[(at + what.Length)..];
    }
}
