using System.CommandLine;

namespace Meshgate.Commands;

/// <summary>Options several verbs share, spelled as kubectl spells them.</summary>
public static class CommonOptions
{
    public static readonly Option<string?> Server = new("--server", "-s")
    {
        Description = "Control plane address (default MESHGATE_SERVER, else http://127.0.0.1:15014)",
        Recursive = true,
    };

    public static Option<string?> Namespace() => new("--namespace", "-n")
    {
        Description = "Namespace of the objects (default \"default\")",
    };

    public static Option<string[]> Files(string description) => new("--filename", "-f")
    {
        Description = description,
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.ZeroOrMore,
    };

    public static Option<bool> Recursive() => new("--recursive", "-R")
    {
        Description = "Read directories given with -f recursively",
    };

    /// <summary>
    /// kubectl accepts <c>-ojson</c> and <c>-nfoo</c>; System.CommandLine wants a separator, so split them. What
    /// follows <c>--</c> (the command of <c>exec</c>) is left as it is.
    /// </summary>
    public static string[] Normalize(string[] args)
    {
        var result = new List<string>(args.Length);
        var literal = false;
        foreach (var arg in args)
        {
            literal |= arg == "--";
            if (!literal && arg.Length > 2 && arg[0] == '-' && arg[1] is 'o' or 'n' or 'l' && arg[2] is not '=' and not ':' && !arg.StartsWith("--", StringComparison.Ordinal))
            {
                result.Add(arg[..2]);
                result.Add(arg[2..]);
            }
            else
            {
                result.Add(arg);
            }
        }

        return result.ToArray();
    }
}
