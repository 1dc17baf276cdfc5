using System.Text;

namespace Meshgate.ControlPlane.Identity;

/// <summary>
/// Files that hold keys: created with mode 0600 from the first byte (never world-readable, even briefly) and replaced
/// atomically, so a crash leaves the old file or the new one, never half of either.
/// </summary>
public static class SecretFile
{
    /// <summary>
    /// Writes <paramref name="text"/> to <paramref name="path"/> (0600), unless the file already holds exactly that with
    /// mode 0600: a control plane restarted on a read-only data directory rewrites nothing it already has.
    /// </summary>
    public static void Write(string path, string text)
    {
        if (File.Exists(path) && (OperatingSystem.IsWindows() || File.GetUnixFileMode(path) == (UnixFileMode.UserRead | UnixFileMode.UserWrite))
            && File.ReadAllText(path) == text)
        {
            return;
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(Encoding.ASCII.GetBytes(text));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a key file, first narrowing its mode to 0600 if someone widened it.</summary>
    public static string Read(string path)
    {
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite)) != 0)
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return File.ReadAllText(path);
    }
}
