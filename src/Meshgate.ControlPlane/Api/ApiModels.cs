using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

// The resource API's request and response bodies (JSON). Reads follow Kubernetes' paths and shapes;
// writes that take whole files (apply, delete -f) have their own verbs under /apis/meshgate.io/v1.
namespace Meshgate.ControlPlane.Api;

/// <summary>One input file as the CLI read it: its name for messages, and its text (YAML or JSON, many documents).</summary>
public sealed record SourceFile(string Source, string Text);

public sealed record ApplyRequest(IReadOnlyList<SourceFile> Files, string Namespace = "default", bool EnforceNamespace = false, bool DryRun = false);

/// <summary>One object's outcome. <see cref="Action"/> is created, configured, unchanged, deleted or not-found.</summary>
public sealed record ObjectResult(string Kind, string QualifiedKind, string Namespace, string Name, string Action);

public sealed record ApplyResponse(IReadOnlyList<ObjectResult> Results, IReadOnlyList<string> Warnings, long Revision);

public sealed record DeleteRequest(IReadOnlyList<SourceFile> Files, string Namespace = "default", bool EnforceNamespace = false);

public sealed record LabelRequest(string Resource, string Namespace, string Name, IReadOnlyDictionary<string, string> Set, IReadOnlyList<string> Remove, bool Overwrite);

/// <summary>A Kubernetes <c>Status</c>: every error answer of the API.</summary>
public sealed record Status(string Message, string Reason, int Code, StatusDetails? Details = null)
{
    public string Kind => "Status";

    public string ApiVersion => "v1";

    [JsonPropertyName("status")]
    public string Outcome => "Failure";
}

/// <summary>What a <see cref="Status"/> is about: the object (<paramref name="Kind"/> is the resource, as kube-apiserver writes it) and the causes.</summary>
public sealed record StatusDetails(IReadOnlyList<StatusCause>? Causes = null, string? Name = null, string? Group = null, string? Kind = null, string? Uid = null);

/// <summary>One cause: <paramref name="Field"/> is the field path (<c>spec.ports[0].number</c>), <paramref name="Reason"/> its kind (FieldValueInvalid, FieldManagerConflict...).</summary>
public sealed record StatusCause(string Message, string? Field = null, string? Reason = null);

/// <summary>One line of the watch stream (newline-delimited JSON).</summary>
public sealed record WatchEvent(string Type, long Revision, JsonObject Object);
