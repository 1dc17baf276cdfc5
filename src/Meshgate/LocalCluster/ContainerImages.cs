using System.Text.Json.Nodes;

namespace Meshgate.LocalCluster;

/// <summary>
/// The images the local cluster knows how to run without pulling them: their default entrypoint and command (what
/// Docker's <c>ENTRYPOINT</c> and <c>CMD</c> say) run with this machine's program, and the directories the image keeps
/// to itself (a private tmpfs in the container, so it never writes into the machine's own). A container's program is
/// Kubernetes' rule: <c>command</c> replaces the entrypoint, <c>args</c> the image's command.
/// </summary>
internal static class ContainerImages
{
    /// <summary>What an image runs, and its own directories (path, and links to make in it: name → target).</summary>
    internal sealed record Image(string Repository, IReadOnlyList<string> Entrypoint, IReadOnlyList<string> Command, IReadOnlyList<(string Path, IReadOnlyDictionary<string, string> Links)> PrivateDirectories);

    private static readonly Dictionary<string, Image> Known = new(StringComparer.Ordinal)
    {
        // The official nginx image: /docker-entrypoint.sh only templates configuration, then runs CMD. Its logs are
        // links to the container's stdout and stderr; its pid file and temporary files are its own.
        ["nginx"] = new Image("nginx", [], ["nginx", "-g", "daemon off;"],
        [
            ("/var/log/nginx", new Dictionary<string, string> { ["access.log"] = "/dev/stdout", ["error.log"] = "/dev/stderr" }),
            ("/var/lib/nginx", new Dictionary<string, string>()),
            ("/run", new Dictionary<string, string>()),
        ]),
    };

    /// <summary>Which images are known, for messages.</summary>
    public static string KnownNames => string.Join(", ", Known.Keys.Order(StringComparer.Ordinal));

    /// <summary>
    /// The known image <paramref name="reference"/> names, whatever its registry, tag or digest
    /// (<c>nginx</c>, <c>nginx:1.27</c>, <c>docker.io/library/nginx@sha256:...</c>); null for any other.
    /// </summary>
    public static Image? Find(string? reference)
    {
        if (string.IsNullOrEmpty(reference))
        {
            return null;
        }

        var name = reference;
        var digest = name.IndexOf('@', StringComparison.Ordinal);
        if (digest >= 0)
        {
            name = name[..digest];
        }

        var lastSlash = name.LastIndexOf('/');
        var tag = name.IndexOf(':', lastSlash + 1);
        if (tag >= 0)
        {
            name = name[..tag];
        }

        // Docker Hub's official images: docker.io/library/NAME, docker.io/NAME, library/NAME, NAME.
        foreach (var prefix in new[] { "docker.io/library/", "index.docker.io/library/", "registry-1.docker.io/library/", "docker.io/", "library/" })
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                name = name[prefix.Length..];
                break;
            }
        }

        return Known.GetValueOrDefault(name);
    }

    /// <summary>
    /// The program and arguments the container runs (before <c>$(VAR)</c> expansion): <c>command</c> (or the image's
    /// entrypoint) followed by <c>args</c> (or, with neither <c>command</c> nor <c>args</c>, the image's command).
    /// Empty when the container gives no command and the image is not known.
    /// </summary>
    public static IReadOnlyList<string> Command(JsonObject container, Image? image)
    {
        static List<string>? Strings(JsonNode? node) => node is JsonArray array && array.Count > 0 ? array.Select(a => a?.GetValue<string>() ?? "").ToList() : null;
        var command = Strings(container["command"]);
        var args = Strings(container["args"]);
        if (command is not null)
        {
            return [.. command, .. args ?? []];
        }

        if (image is null)
        {
            return args ?? [];
        }

        return [.. image.Entrypoint, .. args ?? image.Command];
    }
}
