using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Nodes;
using Meshgate.Core.Resources;
using Meshgate.Core.Schemas;
using Microsoft.Data.Sqlite;

namespace Meshgate.ControlPlane.Store;

/// <summary>
/// The configuration store: SQLite in the data directory, with the whole content also held as an
/// immutable <see cref="ResourceSet"/> that is swapped after every commit. Each write is one
/// transaction (all or nothing) and takes the next revision; namespaces behave as in Kubernetes.
/// </summary>
public sealed class ResourceStore : IDisposable
{
    /// <summary>Namespaces that exist from the start; the first three cannot be deleted, as in Kubernetes.</summary>
    public static readonly IReadOnlyList<string> InitialNamespaces = ["default", "kube-system", "kube-public", "istio-system"];

    private static readonly HashSet<string> Undeletable = ["default", "kube-system", "kube-public"];

    private const int SqliteReadOnly = 8; // SQLITE_READONLY: the handle was opened read-only

    private SqliteConnection _connection; // replaced only by Reopen, under _writeLock
    private readonly TimeProvider _time;
    private readonly Lock _writeLock = new();
    private ResourceSet _current = ResourceSet.Empty;
    private long _pendingRevision; // the revision the commit in progress will take (under _writeLock)
    private bool _closed; // under _writeLock

    private ResourceStore(SqliteConnection connection, TimeProvider time)
    {
        _connection = connection;
        _time = time;
    }

    /// <summary>The newest committed content; safe to read from any thread.</summary>
    public ResourceSet Current => Volatile.Read(ref _current);

    public ChangeFeed Changes { get; } = new();

    public string Path { get; private init; } = "";

    /// <summary>Opens (or creates) the store in <paramref name="dataDirectory"/> and loads it.</summary>
    public static ResourceStore Open(string dataDirectory, TimeProvider? time = null)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = System.IO.Path.Combine(dataDirectory, "store.db");
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        var store = new ResourceStore(connection, time ?? TimeProvider.System) { Path = path };
        store.Initialize();
        return store;
    }

    private void Initialize()
    {
        Execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS objects (
                grp TEXT NOT NULL, kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (grp, kind, namespace, name));
            """);

        var objects = ImmutableDictionary.CreateBuilder<ObjectKey, Resource>();
        using (var command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT grp, kind, body FROM objects";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var type = ResourceTypes.Find(reader.GetString(0), reader.GetString(1));
                if (type is null)
                {
                    continue; // a kind this build no longer serves; left in the file untouched
                }

                var resource = new Resource(type, (JsonObject)JsonNode.Parse(reader.GetString(2))!);
                objects[resource.Key] = resource;
            }
        }

        var revision = long.Parse(ReadMeta("revision") ?? "0", CultureInfo.InvariantCulture);
        _current = new ResourceSet(revision, objects.ToImmutable());
        // The feed starts empty: a watch from before this revision (a client that watched the previous run) cannot be
        // served from it and must get 410 Expired and list again, never silently miss the changes in between.
        Changes.StartAfter(revision);

        var missing = InitialNamespaces.Where(ns => !_current.NamespaceExists(ns)).ToList();
        if (missing.Count > 0)
        {
            Commit(set => missing.Select(ns => Put(set, NewNamespace(ns), out _)!).ToList());
        }

        Commit(ServeCustomResourceDefinitions);
    }

    /// <summary>
    /// Stores the definitions of the Istio and Gateway API kinds as this build generates them (read-only through the API,
    /// <see cref="CustomResourceDefinitions"/>), replacing older ones and removing those of kinds no longer served.
    /// </summary>
    private List<Pending> ServeCustomResourceDefinitions(ImmutableDictionary<ObjectKey, Resource>.Builder set)
    {
        var changes = new List<Pending>();
        foreach (var stale in set.Values.Where(r => r.Type == ResourceTypes.CustomResourceDefinition && CustomResourceDefinitions.Find(r.Name) is null).ToList())
        {
            set.Remove(stale.Key);
            changes.Add(new Pending(ChangeType.Deleted, stale));
        }

        foreach (var (type, definition) in CustomResourceDefinitions.All)
        {
            var json = (JsonObject)definition.DeepClone();
            set.TryGetValue(new ObjectKey(ResourceTypes.CustomResourceDefinition, "", CustomResourceDefinitions.NameOf(type)), out var existing);
            if (existing is not null && JsonNode.DeepEquals(existing.Json["spec"], json["spec"]))
            {
                continue; // labels and annotations a client applied stay
            }

            // As kube-apiserver reports a definition it serves: names accepted, established, stored in the storage version.
            json["status"] = new JsonObject
            {
                ["acceptedNames"] = json["spec"]!["names"]!.DeepClone(),
                ["conditions"] = new JsonArray(
                    Condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                    Condition("Established", "InitialNamesAccepted", "the initial names have been accepted")),
                ["storedVersions"] = new JsonArray(type.PreferredVersion),
            };
            if (Put(set, new Resource(ResourceTypes.CustomResourceDefinition, json), out _, withStatus: true) is { } pending)
            {
                changes.Add(pending);
            }
        }

        return changes;
    }

    private JsonObject Condition(string type, string reason, string message) => new()
    {
        ["type"] = type,
        ["status"] = "True",
        ["lastTransitionTime"] = _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        ["reason"] = reason,
        ["message"] = message,
    };

    /// <summary>Creates or updates every object, in order, in one transaction.</summary>
    /// <exception cref="StoreException">Nothing was stored: a namespace is missing, or an object is forbidden.</exception>
    public IReadOnlyList<ApplyOutcome> Apply(IReadOnlyList<Resource> resources, bool dryRun = false)
    {
        var outcomes = new List<ApplyOutcome>();
        Commit(set =>
        {
            if (resources.Count >= ParallelApply && Independent(resources))
            {
                return ApplyInParallel(set, resources, outcomes);
            }

            var changes = new List<Pending>();
            foreach (var resource in resources)
            {
                if (resource.Type.Namespaced && !set.ContainsKey(new ObjectKey(ResourceTypes.Namespace, "", resource.Namespace)))
                {
                    throw StoreException.NotFound($"{resource.Key}: namespaces \"{resource.Namespace}\" not found; create it first with 'meshgate create namespace {resource.Namespace}'");
                }

                var pending = Put(set, resource, out var action);
                outcomes.Add(new ApplyOutcome(resource.Key, action, pending?.Object ?? set[resource.Key]));
                if (pending is not null)
                {
                    changes.Add(pending);
                }
            }

            return changes;
        }, dryRun);
        return outcomes;
    }

    /// <summary>An apply of at least this many objects prepares them on every core (<see cref="ApplyInParallel"/>).</summary>
    internal const int ParallelApply = 256;

    /// <summary>
    /// True when no object of <paramref name="resources"/> can change how another is stored: no key twice (the second
    /// would update the first), and no namespace (the objects after it may be created in it).
    /// </summary>
    private static bool Independent(IReadOnlyList<Resource> resources)
    {
        var keys = new HashSet<ObjectKey>(resources.Count);
        foreach (var resource in resources)
        {
            if (resource.Type == ResourceTypes.Namespace || !keys.Add(resource.Key))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// <see cref="Apply"/> of <see cref="Independent"/> objects, the same result as one <see cref="Put"/> after another:
    /// what each object's write depends on (the stored object, its namespace) is read first, each new object is then
    /// prepared (copied, given its server fields, serialized) on every core, and the results go into the set in order.
    /// The error of the first object that fails, in the order given, is the one thrown, as in the one-by-one loop.
    /// </summary>
    private List<Pending> ApplyInParallel(ImmutableDictionary<ObjectKey, Resource>.Builder set, IReadOnlyList<Resource> resources, List<ApplyOutcome> outcomes)
    {
        var count = resources.Count;
        var existing = new Resource?[count];
        var terminating = new bool[count];
        var failures = new System.Runtime.ExceptionServices.ExceptionDispatchInfo?[count];
        for (var i = 0; i < count; i++)
        {
            var resource = resources[i];
            Resource? ns = null;
            if (resource.Type.Namespaced && !set.TryGetValue(new ObjectKey(ResourceTypes.Namespace, "", resource.Namespace), out ns))
            {
                failures[i] = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(StoreException.NotFound(
                    $"{resource.Key}: namespaces \"{resource.Namespace}\" not found; create it first with 'meshgate create namespace {resource.Namespace}'"));
                continue;
            }

            existing[i] = set.GetValueOrDefault(resource.Key);
            terminating[i] = existing[i] is null && ns is not null && IsDeleting(ns.Json);
        }

        var prepared = new Pending?[count];
        var actions = new ApplyAction[count];
        var revision = _pendingRevision;
        Parallel.For(0, count, i =>
        {
            if (failures[i] is not null)
            {
                return;
            }

            try
            {
                prepared[i] = Prepare(resources[i], existing[i], terminating[i], revision, out actions[i]);
            }
            catch (Exception e)
            {
                failures[i] = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
            }
        });

        var changes = new List<Pending>(count);
        for (var i = 0; i < count; i++)
        {
            failures[i]?.Throw();
            var key = resources[i].Key;
            if (prepared[i] is { } pending)
            {
                set[key] = pending.Object;
                changes.Add(pending);
            }

            outcomes.Add(new ApplyOutcome(key, actions[i], prepared[i]?.Object ?? existing[i]!));
        }

        return changes;
    }

    /// <summary>
    /// Creates or updates one object together with its <c>status</c> (which <see cref="Apply"/> leaves to the server):
    /// how the control plane records what it observes, such as a connected proxy's Pod.
    /// </summary>
    /// <exception cref="StoreException">Nothing was stored: the namespace is missing.</exception>
    public ApplyOutcome ApplyWithStatus(Resource resource)
    {
        ApplyOutcome? outcome = null;
        Commit(set =>
        {
            if (resource.Type.Namespaced && !set.ContainsKey(new ObjectKey(ResourceTypes.Namespace, "", resource.Namespace)))
            {
                throw StoreException.NotFound($"{resource.Key}: namespaces \"{resource.Namespace}\" not found; create it first with 'meshgate create namespace {resource.Namespace}'");
            }

            var pending = Put(set, resource, out var action, withStatus: true);
            outcome = new ApplyOutcome(resource.Key, action, pending?.Object ?? set[resource.Key]);
            return pending is null ? [] : [pending];
        });
        return outcome!;
    }

    /// <summary>
    /// Reads one object (null when it does not exist) and writes what <paramref name="compute"/> makes of it, both under
    /// the write lock, so nothing changes in between: the Kubernetes API's create, update, patch and apply.
    /// <paramref name="compute"/> may throw to refuse the write (nothing is stored).
    /// </summary>
    /// <exception cref="StoreException">Nothing was stored: the namespace is missing, or <paramref name="compute"/> refused.</exception>
    public ApplyOutcome Write(ObjectKey key, Func<Resource?, WriteRequest> compute, bool dryRun = false)
    {
        ApplyOutcome? outcome = null;
        Commit(set =>
        {
            var request = compute(set.GetValueOrDefault(key));
            var resource = request.Object;
            if (resource.Key != key)
            {
                throw new StoreException("BadRequest", 400, $"the object is {resource.Key}, not {key}");
            }

            if (resource.Type.Namespaced && !set.ContainsKey(new ObjectKey(ResourceTypes.Namespace, "", resource.Namespace)))
            {
                throw StoreException.NotFound($"namespaces \"{resource.Namespace}\" not found");
            }

            var pending = Put(set, resource, out var action, request.WithStatus);
            outcome = new ApplyOutcome(key, action, pending?.Object ?? set[key]);
            return pending is null ? [] : [pending];
        }, dryRun);
        return outcome!;
    }

    /// <summary>
    /// Deletes one object if <paramref name="precondition"/> (which may throw) accepts it; a namespace takes what is in it.
    /// An object with finalizers is only marked (<c>deletionTimestamp</c>) and goes when its last finalizer is removed.
    /// </summary>
    /// <returns>The object as it was, the marked object when it has finalizers, or null when it did not exist.</returns>
    /// <exception cref="StoreException">Nothing was deleted: the namespace may not be deleted, or the precondition refused.</exception>
    public Resource? DeleteOne(ObjectKey key, Action<Resource>? precondition = null, bool dryRun = false)
    {
        Resource? deleted = null;
        Commit(set =>
        {
            CheckDeletable(key);

            if (!set.TryGetValue(key, out var existing))
            {
                return [];
            }

            precondition?.Invoke(existing);
            var changes = new List<Pending>();
            deleted = Remove(set, existing, changes);
            return changes;
        }, dryRun);
        return deleted;
    }

    /// <summary>
    /// Changes one object as it is when the write happens, status included: a read-modify-write that no other write
    /// can come between (the local cluster's kubelet writes a Pod's status while a proxy's registration adds its
    /// annotations to the same Pod). <paramref name="change"/> runs under the store's write lock: keep it to the object.
    /// </summary>
    /// <returns>The outcome; null when the object does not exist or <paramref name="change"/> returns null (nothing written).</returns>
    public ApplyOutcome? Update(ObjectKey key, Func<Resource, Resource?> change)
    {
        ApplyOutcome? outcome = null;
        Commit(set =>
        {
            if (!set.TryGetValue(key, out var current) || change(current) is not { } changed || changed.Key != key)
            {
                return [];
            }

            var pending = Put(set, changed, out var action, withStatus: true);
            outcome = new ApplyOutcome(key, action, pending?.Object ?? set[key]);
            return pending is null ? [] : [pending];
        });
        return outcome;
    }

    /// <summary>Deletes objects in one transaction; deleting a namespace deletes everything in it.</summary>
    /// <returns>For each key, whether it existed.</returns>
    public IReadOnlyList<(ObjectKey Key, bool Deleted)> Delete(IReadOnlyList<ObjectKey> keys, bool dryRun = false)
    {
        var results = new List<(ObjectKey, bool)>();
        Commit(set =>
        {
            var changes = new List<Pending>();
            foreach (var key in keys)
            {
                CheckDeletable(key);

                if (!set.TryGetValue(key, out var existing))
                {
                    results.Add((key, false));
                    continue;
                }

                Remove(set, existing, changes);
                results.Add((key, true));
            }

            return changes;
        }, dryRun);
        return results;
    }

    /// <summary>
    /// Deletes <paramref name="existing"/> as Kubernetes does: an object with <c>metadata.finalizers</c> is marked with
    /// <c>deletionTimestamp</c> and stays until they are removed (<see cref="CompleteDeletions"/>); a namespace deletes
    /// what is in it and, while some of that waits for finalizers, stays <c>Terminating</c>. An object already marked is
    /// left as it is.
    /// </summary>
    /// <returns>The object after the delete: as it was when removed, marked when it stays.</returns>
    private Resource Remove(ImmutableDictionary<ObjectKey, Resource>.Builder set, Resource existing, List<Pending> changes)
    {
        if (IsDeleting(existing.Json))
        {
            return existing;
        }

        var stays = HasFinalizers(existing.Json);
        if (existing.Type == ResourceTypes.Namespace)
        {
            foreach (var inside in set.Values.Where(r => r.Type.Namespaced && r.Namespace == existing.Name).ToList())
            {
                Remove(set, inside, changes);
                stays |= set.ContainsKey(inside.Key);
            }
        }

        if (!stays)
        {
            set.Remove(existing.Key);
            changes.Add(new Pending(ChangeType.Deleted, existing));
            return existing;
        }

        var json = (JsonObject)existing.Json.DeepClone();
        var metadata = (JsonObject)json["metadata"]!;
        metadata["deletionTimestamp"] = _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        metadata["deletionGracePeriodSeconds"] = 0;
        metadata["resourceVersion"] = _pendingRevision.ToString(CultureInfo.InvariantCulture);
        if (existing.Type == ResourceTypes.Namespace)
        {
            json["status"] = new JsonObject { ["phase"] = "Terminating" };
        }

        var body = json.ToJsonString();
        var marked = existing.WithSameSpec((JsonObject)JsonNode.Parse(body)!);
        set[marked.Key] = marked;
        changes.Add(new Pending(ChangeType.Modified, marked, body));
        return marked;
    }

    /// <summary>
    /// Removes what this commit left marked for deletion with no finalizer, and a terminating namespace once nothing is
    /// left in it: the end of a deletion that waited for finalizers.
    /// </summary>
    private static void CompleteDeletions(ImmutableDictionary<ObjectKey, Resource>.Builder set, List<Pending> pending)
    {
        for (var i = 0; i < pending.Count; i++)
        {
            var change = pending[i];
            var resource = change.Object;
            if (change.Type != ChangeType.Deleted && IsDeleting(resource.Json) && !HasFinalizers(resource.Json)
                && (resource.Type != ResourceTypes.Namespace || !set.Values.Any(r => r.Type.Namespaced && r.Namespace == resource.Name)))
            {
                set.Remove(resource.Key);
                pending[i] = change = new Pending(ChangeType.Deleted, resource);
            }

            if (change.Type == ChangeType.Deleted && resource.Type.Namespaced
                && set.TryGetValue(new ObjectKey(ResourceTypes.Namespace, "", resource.Namespace), out var ns)
                && IsDeleting(ns.Json) && !HasFinalizers(ns.Json)
                && !set.Values.Any(r => r.Type.Namespaced && r.Namespace == ns.Name))
            {
                set.Remove(ns.Key);
                pending.Add(new Pending(ChangeType.Deleted, ns));
            }
        }
    }

    private static bool IsDeleting(JsonNode json) => json["metadata"]?["deletionTimestamp"] is not null;

    private static bool HasFinalizers(JsonNode json) => json["metadata"]?["finalizers"] is JsonArray { Count: > 0 };

    private static void CheckDeletable(ObjectKey key)
    {
        if (key.Type == ResourceTypes.Namespace && Undeletable.Contains(key.Name))
        {
            throw StoreException.Forbidden($"namespaces \"{key.Name}\" is forbidden: this namespace may not be deleted");
        }

        if (key.Type == ResourceTypes.CustomResourceDefinition)
        {
            throw StoreException.Forbidden($"customresourcedefinitions.apiextensions.k8s.io \"{key.Name}\" is forbidden: Meshgate's kinds are built in; their definitions cannot be deleted");
        }
    }

    /// <summary>Sets and removes labels on one object (kubectl label).</summary>
    /// <returns>The object after the change, and whether anything changed.</returns>
    public (Resource Object, bool Changed) Label(ObjectKey key, IReadOnlyDictionary<string, string> set, IReadOnlyList<string> remove, bool overwrite)
    {
        Resource? result = null;
        var changed = false;
        Commit(objects =>
        {
            if (!objects.TryGetValue(key, out var existing))
            {
                throw StoreException.NotFound($"{key.Type.Resource} \"{key.Name}\" not found");
            }

            var updated = existing.DeepClone();
            var labels = updated.Metadata["labels"] as JsonObject ?? new JsonObject();
            updated.Metadata["labels"] = labels;
            foreach (var (name, value) in set)
            {
                if (labels[name]?.GetValue<string>() is { } current && current != value && !overwrite)
                {
                    throw StoreException.Conflict($"'{name}' already has a value ({current}), and --overwrite is false");
                }

                labels[name] = value;
            }

            foreach (var name in remove)
            {
                labels.Remove(name);
            }

            if (labels.Count == 0)
            {
                updated.Metadata.Remove("labels");
            }

            var pending = Put(objects, new Resource(updated.Type, StripServerFields(updated.Json)), out var action);
            changed = action != ApplyAction.Unchanged;
            result = pending?.Object ?? existing;
            return pending is null ? [] : [pending];
        }, dryRun: false);
        return (result!, changed);
    }

    /// <summary>One change of a commit; <paramref name="Body"/> is the object's JSON text for the table (null for a delete).</summary>
    private sealed record Pending(ChangeType Type, Resource Object, string? Body = null);

    /// <summary>Runs <paramref name="mutate"/> on a builder of the current content, then writes its changes in one transaction.</summary>
    private void Commit(Func<ImmutableDictionary<ObjectKey, Resource>.Builder, List<Pending>> mutate, bool dryRun = false)
    {
        lock (_writeLock)
        {
            if (_closed)
            {
                // A write racing the shutdown (a proxy registering as the control plane stops) must not reach a closed
                // SQLite connection: that is native code, and a use after close can take the process down.
                throw new StoreException("ServiceUnavailable", 503, "the store is closed: the control plane is shutting down");
            }

            var current = _current;
            var builder = current.Objects.ToBuilder();
            _pendingRevision = current.Revision + 1;
            var pending = mutate(builder);
            CompleteDeletions(builder, pending);
            if (pending.Count == 0 || dryRun)
            {
                return;
            }

            var revision = current.Revision + 1;
            try
            {
                WriteTransaction(pending, revision);
            }
            catch (SqliteException e) when (e.SqliteErrorCode == SqliteReadOnly && Reopen())
            {
                // SQLite opened the file read-only (its filesystem was read-only then) and the handle stays so; the
                // filesystem may be writable now: one more try on a fresh handle.
                try
                {
                    WriteTransaction(pending, revision);
                }
                catch (SqliteException again)
                {
                    throw StoreWriteFailure.ToStoreException(again, Path);
                }
            }
            catch (SqliteException e)
            {
                // The transaction was rolled back (nothing of it is in the file) and _current is untouched; a full or
                // read-only filesystem is the operator's to fix, so say which, instead of a bare internal error.
                throw StoreWriteFailure.ToStoreException(e, Path);
            }

            // The transaction wrote exactly the pending changes, so they are what differs from the current set.
            Volatile.Write(ref _current, new ResourceSet(revision, builder.ToImmutable(), current, pending.ConvertAll(p => p.Object.Key)));
            Changes.Publish(pending.Select(p => new Change(revision, p.Type, p.Object)).ToList());
        }
    }

    /// <summary>Writes one commit's changes and the new revision in one SQLite transaction (rolled back on any error).</summary>
    private void WriteTransaction(List<Pending> pending, long revision)
    {
        if (_connection.State != System.Data.ConnectionState.Open)
        {
            OpenForWrites(); // a reopen failed before
        }

        using (var transaction = _connection.BeginTransaction())
        {
            // One statement of each kind for the whole commit, prepared once, its parameters set per object.
            using var upsert = ObjectCommand(transaction, "INSERT OR REPLACE INTO objects (grp, kind, namespace, name, body) VALUES ($g, $k, $n, $name, $body)", "$g", "$k", "$n", "$name", "$body");
            using var delete = ObjectCommand(transaction, "DELETE FROM objects WHERE grp = $g AND kind = $k AND namespace = $n AND name = $name", "$g", "$k", "$n", "$name");
            foreach (var change in pending)
            {
                var command = change.Type == ChangeType.Deleted ? delete : upsert;
                var key = change.Object.Key;
                command.Parameters["$g"].Value = key.Type.Group;
                command.Parameters["$k"].Value = key.Type.Kind;
                command.Parameters["$n"].Value = key.Namespace;
                command.Parameters["$name"].Value = key.Name;
                if (change.Type != ChangeType.Deleted)
                {
                    command.Parameters["$body"].Value = change.Body ?? change.Object.Json.ToJsonString();
                }

                command.ExecuteNonQuery();
            }

            using (var meta = _connection.CreateCommand())
            {
                meta.Transaction = transaction;
                meta.CommandText = "INSERT OR REPLACE INTO meta (key, value) VALUES ('revision', $v)";
                meta.Parameters.AddWithValue("$v", revision.ToString(CultureInfo.InvariantCulture));
                meta.ExecuteNonQuery();
            }

            transaction.Commit();
        }
    }

    /// <summary>
    /// Opens the database again (under the write lock); false when that fails. The old handle is closed first: SQLite
    /// shares a file's shared-memory index between the handles of one process, so a new handle opened beside the old
    /// one would inherit its read-only index. A handle left closed here is opened by the next write.
    /// </summary>
    private bool Reopen()
    {
        var connectionString = _connection.ConnectionString;
        _connection.Dispose();
        _connection = new SqliteConnection(connectionString);
        try
        {
            OpenForWrites();
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    private void OpenForWrites()
    {
        _connection.Open();
        using var pragma = _connection.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous = NORMAL;"; // per handle (WAL mode is kept in the file)
        pragma.ExecuteNonQuery();
    }

    private SqliteCommand ObjectCommand(SqliteTransaction transaction, string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter(name, SqliteType.Text));
        }

        return command;
    }

    /// <summary>
    /// Puts one object into <paramref name="set"/>, keeping the server's fields of an existing one.
    /// Returns null when the object is unchanged.
    /// </summary>
    private Pending? Put(ImmutableDictionary<ObjectKey, Resource>.Builder set, Resource incoming, out ApplyAction action, bool withStatus = false)
    {
        set.TryGetValue(incoming.Key, out var existing);
        var terminating = existing is null && incoming.Type.Namespaced
            && set.TryGetValue(new ObjectKey(ResourceTypes.Namespace, "", incoming.Namespace), out var ns) && IsDeleting(ns.Json);
        var pending = Prepare(incoming, existing, terminating, _pendingRevision, out action, withStatus);
        if (pending is not null)
        {
            set[pending.Object.Key] = pending.Object;
        }

        return pending;
    }

    /// <summary>
    /// <see cref="Put"/>'s work on one object, reading nothing but its arguments (so objects can be prepared on several
    /// threads): the object to store in place of <paramref name="existing"/> (null when there is none), or null when it
    /// is unchanged. <paramref name="terminating"/> says that the object is new and its namespace is being deleted.
    /// </summary>
    private Pending? Prepare(Resource incoming, Resource? existing, bool terminating, long pendingRevision, out ApplyAction action, bool withStatus = false)
    {
        var json = (JsonObject)incoming.Json.DeepClone();
        var metadata = (JsonObject)json["metadata"]!;
        if (incoming.Type == ResourceTypes.Namespace)
        {
            // Kubernetes labels every namespace with its own name, so selectors can pick it.
            var labels = metadata["labels"] as JsonObject ?? new JsonObject();
            metadata["labels"] = labels;
            labels["kubernetes.io/metadata.name"] = incoming.Name;
        }

        var revision = pendingRevision.ToString(CultureInfo.InvariantCulture);
        if (existing is not null)
        {
            var old = existing.Json;
            KeepDeletionMark((JsonObject)old["metadata"]!, metadata, incoming.Key);
            if (metadata["managedFields"] is null && old["metadata"]?["managedFields"] is { } managedFields)
            {
                // Field ownership (server-side apply) stays through writes that do not say it.
                metadata["managedFields"] = managedFields.DeepClone();
            }

            if (SameContent(old, json) && (!withStatus || JsonNode.DeepEquals(old["status"], json["status"])))
            {
                action = ApplyAction.Unchanged;
                return null;
            }

            var oldMetadata = (JsonObject)old["metadata"]!;
            metadata["uid"] = oldMetadata["uid"]?.DeepClone();
            metadata["creationTimestamp"] = oldMetadata["creationTimestamp"]?.DeepClone();
            var generation = oldMetadata["generation"]?.GetValue<long>() ?? 1;
            metadata["generation"] = SameBody(old, json) ? generation : generation + 1;
            metadata["resourceVersion"] = revision;
            if (!withStatus && old["status"] is { } status)
            {
                json["status"] = status.DeepClone();
            }

            action = ApplyAction.Configured;
        }
        else
        {
            if (terminating)
            {
                throw StoreException.Forbidden($"{incoming.Key}: unable to create new content in namespace {incoming.Namespace} because it is being terminated");
            }

            metadata.Remove("deletionTimestamp");
            metadata.Remove("deletionGracePeriodSeconds");
            metadata["uid"] = Guid.NewGuid().ToString();
            metadata["creationTimestamp"] = _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            metadata["generation"] = 1;
            metadata["resourceVersion"] = revision;
            if (incoming.Type == ResourceTypes.Namespace)
            {
                json["status"] = new JsonObject { ["phase"] = "Active" };
            }

            action = ApplyAction.Created;
        }

        // Re-read so every value is JSON-backed (numbers readable as any numeric type), as after a restart; the same
        // text is what the table stores. The spec is the incoming one: its typed view, when validation read it, is kept.
        var body = json.ToJsonString();
        var resource = incoming.WithSameSpec((JsonObject)JsonNode.Parse(body)!);
        return new Pending(action == ApplyAction.Created ? ChangeType.Added : ChangeType.Modified, resource, body);
    }

    /// <summary>Same labels, annotations and body (everything users write), whatever the apiVersion spelled.</summary>
    /// <summary>
    /// <c>deletionTimestamp</c> is the server's: a write keeps the stored one (or none). While an object is being
    /// deleted its finalizers may only be removed, as in Kubernetes.
    /// </summary>
    private static void KeepDeletionMark(JsonObject stored, JsonObject incoming, ObjectKey key)
    {
        incoming.Remove("deletionTimestamp");
        incoming.Remove("deletionGracePeriodSeconds");
        if (stored["deletionTimestamp"] is not { } deleting)
        {
            return;
        }

        incoming["deletionTimestamp"] = deleting.DeepClone();
        incoming["deletionGracePeriodSeconds"] = stored["deletionGracePeriodSeconds"]?.DeepClone();
        var before = (stored["finalizers"] as JsonArray)?.Select(f => f?.ToString()).ToHashSet() ?? [];
        if ((incoming["finalizers"] as JsonArray)?.Select(f => f?.ToString()).FirstOrDefault(f => !before.Contains(f)) is { } added)
        {
            throw StoreException.Invalid($"{key}: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers [\"{added}\"]");
        }
    }

    private static bool SameContent(JsonObject stored, JsonObject incoming) =>
        SameBody(stored, incoming)
        && JsonNode.DeepEquals(stored["metadata"]?["labels"], incoming["metadata"]?["labels"])
        && JsonNode.DeepEquals(stored["metadata"]?["annotations"], incoming["metadata"]?["annotations"])
        && JsonNode.DeepEquals(stored["metadata"]?["managedFields"], incoming["metadata"]?["managedFields"])
        && JsonNode.DeepEquals(stored["metadata"]?["finalizers"], incoming["metadata"]?["finalizers"])
        && JsonNode.DeepEquals(stored["metadata"]?["deletionTimestamp"], incoming["metadata"]?["deletionTimestamp"]);

    /// <summary>The object less metadata, status and apiVersion: what <c>generation</c> counts changes of.</summary>
    private static bool SameBody(JsonObject stored, JsonObject incoming)
    {
        static IEnumerable<KeyValuePair<string, JsonNode?>> Body(JsonObject o) =>
            o.Where(p => p.Key is not ("metadata" or "status" or "apiVersion"));

        var a = Body(stored).ToDictionary(p => p.Key, p => p.Value);
        var b = Body(incoming).ToDictionary(p => p.Key, p => p.Value);
        return a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var v) && JsonNode.DeepEquals(p.Value, v));
    }

    private static JsonObject StripServerFields(JsonObject json)
    {
        var copy = (JsonObject)json.DeepClone();
        var metadata = (JsonObject)copy["metadata"]!;
        foreach (var field in new[] { "uid", "resourceVersion", "generation", "creationTimestamp" })
        {
            metadata.Remove(field);
        }

        copy.Remove("status");
        return copy;
    }

    private static Resource NewNamespace(string name)
    {
        var json = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Namespace",
            ["metadata"] = new JsonObject { ["name"] = name },
        };
        return new Resource(ResourceTypes.Namespace, json);
    }

    private string? ReadMeta(string key)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = $k";
        command.Parameters.AddWithValue("$k", key);
        return command.ExecuteScalar() as string;
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Closes the database once no write is in progress; writes after that fail with ServiceUnavailable.</summary>
    public void Dispose()
    {
        lock (_writeLock)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            _connection.Dispose();
        }
    }
}
