using System.CommandLine;

namespace Meshgate.Commands;

/// <summary>Options several verbs share, spelled as kubectl spells them.</summary>
public static class CommonOptions
{
    public static readonly Option<string?> Server = new("--server", "-s")
    {
        Description = "The resource API's address (default MESHGATE_SERVER, else the kubeconfig's server)",
        Recursive = true,
    };

    public static readonly Option<string?> Token = new("--token")
    {
        Description = "Bearer token for the resource API (default the kubeconfig user's token)",
        Recursive = true,
    };

    public static readonly Option<string?> CertificateAuthority = new("--certificate-authority")
    {
        Description = "PEM file of the certificate authority the API's certificate must chain to (default the kubeconfig's)",
        Recursive = true,
    };

    public static readonly Option<string?> Kubeconfig = new("--kubeconfig")
    {
        Description = "The kubeconfig to use (default KUBECONFIG, else .meshgate/kubeconfig, which 'meshgate up' writes)",
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
