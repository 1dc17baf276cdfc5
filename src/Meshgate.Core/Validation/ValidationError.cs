namespace Meshgate.Core.Validation;

/// <summary>
/// One thing wrong with one document. Printed as
/// <c>ServiceEntry default/cnn (stdin, document 1, line 12): spec.ports[0].number: 70000 is not a port (1-65535)</c>.
/// </summary>
/// <param name="Subject">The object as users name it, <c>ServiceEntry default/cnn</c>, or a description when it has no name yet.</param>
/// <param name="Where">The source and document, <c>stdin, document 1</c>; empty when the input had no file (the API).</param>
/// <param name="Path">The field path, <c>spec.ports[0].number</c>; empty for the document as a whole.</param>
/// <param name="Message">What was wrong and what is allowed.</param>
/// <param name="Line">The line of the field in the source, when known.</param>
/// <param name="IsWarning">A warning is printed but does not stop the apply.</param>
public sealed record ValidationError(string Subject, string Where, string Path, string Message, int? Line = null, bool IsWarning = false)
{
    public override string ToString()
    {
        var where = (Where, Line) switch
        {
            ("", null) => "",
            ("", { } line) => $" (line {line})",
            (_, null) => $" ({Where})",
            (_, { } line) => $" ({Where}, line {line})",
        };
        var path = Path.Length == 0 ? "" : Path + ": ";
        return $"{Subject}{where}: {path}{Message}";
    }
}
