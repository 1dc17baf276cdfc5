namespace Meshgate.Core.Patching;

/// <summary>A patch that cannot be applied. <see cref="Malformed"/>: the patch itself is wrong (400), else it does not fit the object (422).</summary>
public sealed class PatchException(string message, bool malformed = false) : Exception(message)
{
    public bool Malformed { get; } = malformed;
}
