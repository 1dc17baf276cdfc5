namespace Meshgate.Commands;

/// <summary>The streams a command reads and writes; tests run the CLI in-process with their own.</summary>
public sealed record CliContext(TextReader In, TextWriter Out, TextWriter Error)
{
    public static CliContext FromConsole() => new(Console.In, Console.Out, Console.Error);
}
