using Meshgate.Core.Resources;

namespace Meshgate.ControlPlane.Store;

/// <summary>kubectl's words for what an apply did to one object.</summary>
public enum ApplyAction
{
    Created,
    Configured,
    Unchanged,
}

public sealed record ApplyOutcome(ObjectKey Key, ApplyAction Action, Resource Object);

/// <summary>What <see cref="ResourceStore.Write"/> stores: the object, and whether its <c>status</c> is written too (the status subresource) or kept.</summary>
public sealed record WriteRequest(Resource Object, bool WithStatus = false);
