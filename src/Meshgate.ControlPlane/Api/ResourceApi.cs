using System.Diagnostics;
using System.Text.Json;
using Meshgate.ControlPlane.Store;
using Meshgate.Core.Resources;
using Meshgate.Core.Validation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Meshgate.ControlPlane.Api;

/// <summary>
/// The resource API the CLI talks to: the Kubernetes API (<see cref="Kubernetes.KubernetesApi"/>, which kubectl uses
/// too), and Meshgate's own verbs under <c>/apis/meshgate.io/v1</c>: apply and delete take whole files so that the
/// server validates them with the file's own line numbers, and watch streams every change of every kind.
/// </summary>
public static partial class ResourceApi
{
    public const string MeshgatePrefix = "/apis/meshgate.io/v1";

    /// <summary>Largest request body accepted; configuration files are small.</summary>
    public const long MaxRequestBytes = 32 * 1024 * 1024;

    /// <summary>An apply of at least this many objects is followed by a full, compacting garbage collection.</summary>
    internal const int LargeApply = 1000;

    public static void Map(IEndpointRouteBuilder app, ResourceStore store, TimeProvider time)
    {
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", () => Results.Text("ok"));
        app.MapGet("/version", () => Results.Json(new
        {
            name = "meshgate",
            version = typeof(ResourceApi).Assembly.GetName().Version?.ToString(),
            revision = store.Current.Revision,
            // kube-apiserver's version.Info, which kubectl reads (kubectl version).
            major = "1",
            minor = "32",
            gitVersion = Core.Schemas.OpenApiDocuments.KubernetesVersion + "+meshgate",
            gitCommit = "",
            gitTreeState = "clean",
            buildDate = "",
            goVersion = "",
            compiler = "dotnet",
            platform = $"{(OperatingSystem.IsLinux() ? "linux" : "other")}/{System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}",
        }));

        app.MapPost(MeshgatePrefix + "/apply", (ApplyRequest request, ILoggerFactory loggers) => Apply(store, request, loggers.CreateLogger("meshgate.controlplane.api")));
        app.MapPost(MeshgatePrefix + "/delete", (DeleteRequest request) => DeleteFiles(store, request));
        app.MapPost(MeshgatePrefix + "/label", (LabelRequest request) => Label(store, request));
        app.MapGet(MeshgatePrefix + "/watch", (long? revision, HttpContext context) => Watch(store, revision ?? store.Current.Revision, context));

        // Everything else under /api and /apis is the Kubernetes API proper.
        Kubernetes.KubernetesApi.Map(app, store, time);
    }

    private static IResult Apply(ResourceStore store, ApplyRequest request, ILogger logger)
    {
        var started = Stopwatch.GetTimestamp();
        if (Parse(request.Files, request.Namespace, request.EnforceNamespace) is not { } parsed)
        {
            return Error(new Status("no objects passed to apply", "BadRequest", 400));
        }

        if (!parsed.Ok)
        {
            return Invalid(parsed.Errors);
        }

        if (parsed.Resources.Count == 0)
        {
            return Error(new Status("no objects passed to apply", "BadRequest", 400));
        }

        try
        {
            var warnings = parsed.Errors.Where(e => e.IsWarning).Select(e => e.ToString()).ToList();
            var count = parsed.Resources.Count;
            var validated = Stopwatch.GetTimestamp();
            var outcomes = store.Apply(parsed.Resources, request.DryRun);
            var stored = Stopwatch.GetTimestamp();
            if (!request.DryRun && outcomes.Any(o => o.Key.Type == ResourceTypes.ConfigMap && o.Key.Name == Core.Translation.MeshConfigReader.ConfigMapName))
            {
                // The mesh config is read leniently (a bad field keeps its default); say what was not taken.
                warnings.AddRange(Core.Translation.MeshConfigReader.Read(store.Current).Problems);
            }

            var results = outcomes.Select(o => Result(o.Key, o.Action.ToString().ToLowerInvariant())).ToList();
            if (!request.DryRun && outcomes.Count(o => o.Action != ApplyAction.Unchanged) >= LargeApply)
            {
                // The YAML, the validated copies and the parse's garbage of a large change are dead now; collect them
                // before the push builds snapshots on top, and give the memory back (10,000s of objects: ~100s of MB).
                // Once per such apply (~0.2 s at 20,000 objects); dry runs and unchanged re-applies push nothing.
                // Measured (bench/RESULTS.md, seventh session): without it every ACK came no sooner and the peak RSS
                // was higher; a background (non-blocking) collection still held the answer as long.
                parsed = null;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            }

            if (count >= LargeApply)
            {
                Log.Applied(logger, count, store.Current.Revision, Milliseconds(started, validated), Milliseconds(validated, stored),
                    Milliseconds(stored, Stopwatch.GetTimestamp()));
            }

            return Results.Json(new ApplyResponse(results, warnings, store.Current.Revision), ApiJson.Options);
        }
        catch (StoreException e)
        {
            return Error(e);
        }
    }

    private static IResult DeleteFiles(ResourceStore store, DeleteRequest request)
    {
        var parsed = Parse(request.Files, request.Namespace, request.EnforceNamespace);
        if (parsed is null)
        {
            return Error(new Status("no objects passed to delete", "BadRequest", 400));
        }

        if (!parsed.Ok)
        {
            return Invalid(parsed.Errors);
        }

        try
        {
            var deleted = store.Delete(parsed.Resources.Select(r => r.Key).ToList());
            var results = deleted.Select(d => Result(d.Key, d.Deleted ? "deleted" : "not-found")).ToList();
            return Results.Json(new ApplyResponse(results, [], store.Current.Revision), ApiJson.Options);
        }
        catch (StoreException e)
        {
            return Error(e);
        }
    }

    private static IResult Label(ResourceStore store, LabelRequest request)
    {
        if (request.Resource is null || request.Name is null)
        {
            return Error(new Status("label needs resource and name", "BadRequest", 400));
        }

        request = request with { Set = request.Set ?? new Dictionary<string, string>(), Remove = request.Remove ?? [], Namespace = request.Namespace ?? "default" };
        if (ResourceTypes.Resolve(request.Resource) is not { } type)
        {
            return Error(new Status($"the server doesn't have a resource type \"{request.Resource}\"", "NotFound", 404));
        }

        foreach (var (key, value) in request.Set)
        {
            // A JSON null binds as a null string despite the type: refuse it (422), not a NullReferenceException (500).
            var valueError = value is null ? $"the value of {key} is null; give a value (\"\" for an empty one)" : Names.CheckLabelValue(value);
            if ((Names.CheckQualifiedName(key) ?? valueError) is { } error)
            {
                return Error(new Status($"invalid label: {error}", "Invalid", 422));
            }
        }

        try
        {
            var ns = type.Namespaced ? request.Namespace : "";
            var (resource, changed) = store.Label(new ObjectKey(type, ns, request.Name), request.Set, request.Remove, request.Overwrite);
            return Results.Json(new ApplyResponse([Result(resource.Key, changed ? "labeled" : "not labeled")], [], store.Current.Revision), ApiJson.Options);
        }
        catch (StoreException e)
        {
            return Error(e);
        }
    }

    private static async Task Watch(ResourceStore store, long revision, HttpContext context)
    {
        context.Response.ContentType = "application/x-ndjson";
        try
        {
            // Send the headers now, so a client sees the stream open before the first change.
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await foreach (var change in store.Changes.WatchAsync(revision, context.RequestAborted))
            {
                var line = JsonSerializer.Serialize(new WatchEvent(change.Type.ToString().ToUpperInvariant(), change.Revision, change.Object.Json), ApiJson.Options);
                await context.Response.WriteAsync(line + "\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException)
        {
            // the client went away
        }
        catch (StoreException e) when (!context.Response.HasStarted)
        {
            context.Response.StatusCode = e.Code;
            await context.Response.WriteAsJsonAsync(new Status(e.Message, e.Reason, e.Code), ApiJson.Options);
        }
    }

    private static ParseResult? Parse(IReadOnlyList<SourceFile>? files, string? ns, bool enforce)
    {
        if (files is null || files.Count == 0)
        {
            return null;
        }

        ns = string.IsNullOrEmpty(ns) ? "default" : ns;
        var resources = new List<Resource>();
        var errors = new List<ValidationError>();
        foreach (var file in files)
        {
            // A JSON null in the list binds as a null record despite the type: it holds no objects (was a 500).
            if (file is null)
            {
                continue;
            }

            // The store writes each object to text and reads it back as it stores it (with its server fields): the
            // parser need not do so first.
            var result = ResourceParser.ParseText(file.Text ?? "", file.Source ?? "request", ns, enforce, reRead: false);
            resources.AddRange(result.Resources);
            errors.AddRange(result.Errors);
        }

        return new ParseResult(resources, errors);
    }

    private static ObjectResult Result(ObjectKey key, string action) =>
        new(key.Type.Kind, key.Type.QualifiedKind, key.Namespace, key.Name, action);

    private static IResult Invalid(IReadOnlyList<ValidationError> errors)
    {
        var real = errors.Where(e => !e.IsWarning).ToList();
        var message = real.Count == 1 ? real[0].ToString() : $"{real.Count} errors; nothing was applied";
        return Error(new Status(message, "Invalid", 422, new StatusDetails(real.Select(e => new StatusCause(e.ToString())).ToList())));
    }

    private static IResult Error(StoreException e) => Error(new Status(e.Message, e.Reason, e.Code));

    private static IResult Error(Status status) => Results.Json(status, ApiJson.Options, statusCode: status.Code);

    private static long Milliseconds(long from, long to) => (long)Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "applied {Count} objects at revision {Revision}: read and validated in {ValidateMilliseconds} ms, stored in {StoreMilliseconds} ms, then {AfterMilliseconds} ms to the answer (collection)")]
        public static partial void Applied(ILogger logger, int count, long revision, long validateMilliseconds, long storeMilliseconds, long afterMilliseconds);
    }
}
