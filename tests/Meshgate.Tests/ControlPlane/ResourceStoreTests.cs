using Meshgate.ControlPlane.Store;
using Meshgate.Core.Resources;
using Meshgate.Core.Validation;
using Xunit;

namespace Meshgate.Tests.ControlPlane;

public sealed class ResourceStoreTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("meshgate-store-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private static IReadOnlyList<Resource> Parse(string yaml, string ns = "default")
    {
        var result = ResourceParser.ParseText(yaml, "test", ns);
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        return result.Resources;
    }

    private const string Cnn = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: cnn
        spec:
          hosts: [edition.cnn.com]
          ports: [{number: 80, name: http, protocol: HTTP}]
          resolution: DNS
        """;

    [Fact]
    public void Open_NewStore_HasKubernetesNamespacesLabelledWithTheirNames()
    {
        using var store = ResourceStore.Open(_data);

        var namespaces = store.Current.List(ResourceTypes.Namespace).Select(n => n.Name).ToList();

        Assert.Equal(["default", "istio-system", "kube-public", "kube-system"], namespaces);
        Assert.Equal("istio-system", store.Current.Get(new ObjectKey(ResourceTypes.Namespace, "", "istio-system"))!.Labels["kubernetes.io/metadata.name"]);
    }

    [Fact]
    public void Update_ChangesTheObjectAsItIsThen_StatusIncluded_NothingForMissingOrDeclined()
    {
        using var store = ResourceStore.Open(_data);
        var key = store.Apply(Parse(Cnn)).Single().Key;
        store.Label(key, new Dictionary<string, string> { ["added"] = "later" }, [], overwrite: false); // a write the caller did not read

        var outcome = store.Update(key, current =>
        {
            var json = (System.Text.Json.Nodes.JsonObject)current.Json.DeepClone();
            json["status"] = new System.Text.Json.Nodes.JsonObject { ["seen"] = true };
            return new Resource(current.Type, json);
        });

        Assert.Equal(ApplyAction.Configured, outcome!.Action);
        var stored = store.Current.Get(key)!;
        Assert.Equal("later", stored.Labels["added"]); // kept: the change was made to the object as it was
        Assert.True(stored.Json["status"]!["seen"]!.GetValue<bool>());
        var revision = store.Current.Revision;
        Assert.Null(store.Update(key, _ => null));
        Assert.Null(store.Update(new ObjectKey(key.Type, "default", "absent"), current => current));
        Assert.Equal(revision, store.Current.Revision);
    }

    [Fact]
    public void Apply_SameObjectTwice_CreatedThenUnchangedAndRevisionKept()
    {
        using var store = ResourceStore.Open(_data);

        var first = store.Apply(Parse(Cnn)).Single();
        var revision = store.Current.Revision;
        var second = store.Apply(Parse(Cnn)).Single();

        Assert.Equal(ApplyAction.Created, first.Action);
        Assert.Equal(ApplyAction.Unchanged, second.Action);
        Assert.Equal(revision, store.Current.Revision);
    }

    [Fact]
    public void Apply_ChangedSpec_ConfiguredWithNextGenerationAndSameUid()
    {
        using var store = ResourceStore.Open(_data);
        var created = store.Apply(Parse(Cnn)).Single().Object;

        var changed = store.Apply(Parse(Cnn.Replace("resolution: DNS", "resolution: NONE"))).Single();
        var relabelled = store.Apply(Parse(Cnn.Replace("  name: cnn", "  name: cnn\n  labels: {team: web}").Replace("resolution: DNS", "resolution: NONE"))).Single();

        Assert.Equal(ApplyAction.Configured, changed.Action);
        Assert.Equal(created.Metadata["uid"]!.ToString(), changed.Object.Metadata["uid"]!.ToString());
        Assert.Equal(2, changed.Object.Metadata["generation"]!.GetValue<long>());
        Assert.Equal(ApplyAction.Configured, relabelled.Action);
        Assert.Equal(2, relabelled.Object.Metadata["generation"]!.GetValue<long>()); // labels do not bump generation
        Assert.True(relabelled.Object.ResourceVersion > changed.Object.ResourceVersion);
    }

    [Fact]
    public void Apply_ObjectInMissingNamespace_StoresNothingFromTheBatch()
    {
        using var store = ResourceStore.Open(_data);
        var batch = Parse(Cnn).Concat(Parse(Cnn.Replace("name: cnn", "name: other"), ns: "missing")).ToList();
        var before = store.Current;

        var error = Assert.Throws<StoreException>(() => store.Apply(batch));

        Assert.Equal("NotFound", error.Reason);
        Assert.Equal("ServiceEntry missing/other: namespaces \"missing\" not found; create it first with 'meshgate create namespace missing'", error.Message);
        Assert.Same(before, store.Current);
        Assert.Null(store.Current.Get(new ObjectKey(ResourceTypes.ServiceEntry, "default", "cnn")));
    }

    [Fact]
    public void Apply_NamespaceThenObjectInItInOneBatch_Succeeds()
    {
        using var store = ResourceStore.Open(_data);
        var batch = Parse("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: test-egress}
            ---
            """ + "\n" + Cnn, ns: "test-egress");

        var outcomes = store.Apply(batch);

        Assert.All(outcomes, o => Assert.Equal(ApplyAction.Created, o.Action));
        Assert.NotNull(store.Current.Get(new ObjectKey(ResourceTypes.ServiceEntry, "test-egress", "cnn")));
    }

    [Fact]
    public void Delete_Namespace_DeletesEverythingInIt()
    {
        using var store = ResourceStore.Open(_data);
        store.Apply(Parse("apiVersion: v1\nkind: Namespace\nmetadata: {name: test-egress}"));
        store.Apply(Parse(Cnn, ns: "test-egress"));
        store.Apply(Parse(Cnn));

        store.Delete([new ObjectKey(ResourceTypes.Namespace, "", "test-egress")]);

        Assert.Null(store.Current.Get(new ObjectKey(ResourceTypes.ServiceEntry, "test-egress", "cnn")));
        Assert.NotNull(store.Current.Get(new ObjectKey(ResourceTypes.ServiceEntry, "default", "cnn")));
        Assert.False(store.Current.NamespaceExists("test-egress"));
    }

    [Fact]
    public void Delete_DefaultNamespace_IsForbidden()
    {
        using var store = ResourceStore.Open(_data);

        var error = Assert.Throws<StoreException>(() => store.Delete([new ObjectKey(ResourceTypes.Namespace, "", "default")]));

        Assert.Equal("namespaces \"default\" is forbidden: this namespace may not be deleted", error.Message);
    }

    [Fact]
    public void Open_AfterRestart_HasTheSameObjectsAndRevision()
    {
        long revision;
        string uid;
        using (var store = ResourceStore.Open(_data))
        {
            uid = store.Apply(Parse(Cnn)).Single().Object.Metadata["uid"]!.ToString();
            revision = store.Current.Revision;
        }

        using var reopened = ResourceStore.Open(_data);

        var cnn = reopened.Current.Get(new ObjectKey(ResourceTypes.ServiceEntry, "default", "cnn"));
        Assert.NotNull(cnn);
        Assert.Equal(uid, cnn.Metadata["uid"]!.ToString());
        Assert.Equal(revision, reopened.Current.Revision);
        Assert.Equal(ApplyAction.Unchanged, reopened.Apply(Parse(Cnn)).Single().Action);
    }

    [Fact]
    public void Label_SetExistingWithoutOverwrite_ConflictsAndKeepsValue()
    {
        using var store = ResourceStore.Open(_data);
        var key = new ObjectKey(ResourceTypes.Namespace, "", "istio-system");
        store.Label(key, new Dictionary<string, string> { ["istio"] = "system" }, [], overwrite: false);

        var error = Assert.Throws<StoreException>(() => store.Label(key, new Dictionary<string, string> { ["istio"] = "other" }, [], overwrite: false));
        var (removed, changed) = store.Label(key, new Dictionary<string, string>(), ["istio"], overwrite: false);

        Assert.Equal("'istio' already has a value (system), and --overwrite is false", error.Message);
        Assert.True(changed);
        Assert.False(removed.Labels.ContainsKey("istio"));
    }

    [Fact]
    public async Task Changes_AfterApplyAndDelete_AreReportedInOrder()
    {
        using var store = ResourceStore.Open(_data);
        var start = store.Current.Revision;
        store.Apply(Parse(Cnn));
        store.Apply(Parse(Cnn.Replace("resolution: DNS", "resolution: NONE")));
        store.Delete([new ObjectKey(ResourceTypes.ServiceEntry, "default", "cnn")]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        var changes = new List<Change>();
        await foreach (var change in store.Changes.WatchAsync(start, timeout.Token))
        {
            changes.Add(change);
            if (changes.Count == 3)
            {
                break;
            }
        }

        Assert.Equal([ChangeType.Added, ChangeType.Modified, ChangeType.Deleted], changes.Select(c => c.Type));
        Assert.Equal([start + 1, start + 2, start + 3], changes.Select(c => c.Revision));
    }
}
