using System.Text;
using System.Text.Json.Nodes;

namespace Meshgate.LocalCluster;

/// <summary>
/// What a container sees at its <c>volumeMounts</c> paths, and in its image's own directories. A container runs under
/// <c>ip netns exec</c>, which gives it a mount namespace of its own (to mount the pod's <c>/etc/netns</c> files over
/// <c>/etc</c>), a slave of the machine's: mounts made in it are the container's alone. There a short <c>sh</c> script
/// (before the container's program, which it then <c>exec</c>s) bind-mounts each volume's directory at its path
/// (read-only when <c>readOnly</c>) and a private tmpfs at each of the image's directories. A path the machine does not
/// have is made in an overlay of its nearest existing parent, whose upper layer is a tmpfs of the container's: nothing
/// is ever created on the machine's own filesystem (the mounts already under that parent, such as the pod's
/// <c>/etc/resolv.conf</c>, are mounted again on top).
/// </summary>
internal static class ContainerMounts
{
    /// <summary>The script's functions: <c>overlay DIR</c> and <c>point PATH</c> (make a directory to mount on).</summary>
    private const string Functions = """
        set -e
        n=0
        overlay() {
          n=$((n + 1)); d="$S/$n"; mkdir -p "$d/lower" "$d/upper" "$d/work"
          subs=""
          while read -r _ _ _ _ m _; do case "$m" in "$1"/*) subs="$subs $m" ;; esac; done < /proc/self/mountinfo
          mount --rbind "$1" "$d/lower"
          mount -t overlay meshgate -o "lowerdir=$1,upperdir=$d/upper,workdir=$d/work" "$1"
          for m in $subs; do mount --rbind "$d/lower${m#"$1"}" "$m"; done
        }
        point() {
          [ -d "$1" ] && return 0
          a=$(dirname "$1"); while [ ! -e "$a" ]; do a=$(dirname "$a"); done
          if [ "$a" = / ]; then echo "meshgate: cannot make $1 to mount on: this machine has no such directory, and / is not overlaid" >&2; exit 1; fi
          overlay "$a"; mkdir -p "$1"
        }
        """;

    /// <summary>
    /// The script that makes the container's mounts and then runs its program (<c>sh -c SCRIPT sh PROGRAM...</c>);
    /// null when the container has none. Mounts that cannot be made here are said in <paramref name="report"/> and left out.
    /// </summary>
    public static string? Script(string pod, JsonObject container, PodVolumes volumes, ContainerImages.Image? image, Action<string> report)
    {
        var name = container["name"]?.GetValue<string>() ?? "";
        // Every mount point first, then the mounts: an overlay made for a point never has to carry a volume over.
        var points = new List<string>();
        var lines = new List<string>();
        foreach (var (path, links) in image?.PrivateDirectories ?? [])
        {
            points.Add($"point {Quote(path)}");
            lines.Add($"mount -t tmpfs -o mode=0755 meshgate {Quote(path)}");
            foreach (var (link, target) in links)
            {
                lines.Add($"ln -s {Quote(target)} {Quote(path + "/" + link)}");
            }
        }

        foreach (var node in container["volumeMounts"] as JsonArray ?? [])
        {
            var volume = node?["name"]?.GetValue<string>() ?? "";
            var mountPath = node?["mountPath"]?.GetValue<string>() ?? "";
            if (!mountPath.StartsWith('/') || mountPath.Contains(':', StringComparison.Ordinal) || mountPath.Split('/').Any(p => p == ".."))
            {
                report($"pod {pod}: container {name}: volumeMounts[{volume}].mountPath \"{mountPath}\" is not an absolute path without ':' and '..'; not mounted");
                continue;
            }

            if (node?["subPath"] is not null || node?["subPathExpr"] is not null)
            {
                report($"pod {pod}: container {name}: volumeMounts[{volume}] at {mountPath}: subPath is not supported here; not mounted");
                continue;
            }

            if (volumes.DirectoryOf(volume) is not { } source)
            {
                report($"pod {pod}: container {name}: volumeMounts[{volume}] at {mountPath}: no such volume is made here; not mounted");
                continue;
            }

            var target = mountPath.Length > 1 ? mountPath.TrimEnd('/') : mountPath;
            points.Add($"point {Quote(target)}");
            lines.Add($"mount --bind {Quote(source)} {Quote(target)}");
            if (node?["readOnly"] is JsonValue readOnly && readOnly.TryGetValue<bool>(out var ro) && ro)
            {
                lines.Add($"mount -o remount,bind,ro {Quote(target)}");
            }
        }

        if (lines.Count == 0)
        {
            return null;
        }

        var staging = volumes.StagingDirectory(name);
        if (staging.Contains(',', StringComparison.Ordinal) || staging.Contains(':', StringComparison.Ordinal))
        {
            // overlayfs takes its directories as a comma- and colon-separated option
            throw new ClusterException($"pod {pod}: the data directory's path ({staging}) has a ',' or ':', which overlay mounts cannot take; use another --data");
        }

        var script = new StringBuilder();
        script.Append("S=").Append(Quote(staging)).Append('\n');
        script.Append(Functions).Append('\n');
        script.Append("mount -t tmpfs -o mode=0700 meshgate \"$S\"\n");
        foreach (var line in points.Concat(lines))
        {
            script.Append(line).Append('\n');
        }

        script.Append("exec \"$@\"\n");
        return script.ToString();
    }

    /// <summary>A POSIX shell single-quoted word.</summary>
    private static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
