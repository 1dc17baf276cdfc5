using Microsoft.Data.Sqlite;

namespace Meshgate.ControlPlane.Store;

/// <summary>
/// Words a failed SQLite write so that an operator sees the cause: SQLite reports a full or read-only filesystem as
/// "database or disk is full", "attempt to write a readonly database" or a bare "disk I/O error", so the filesystem
/// is asked directly (a small probe file), whose error is the operating system's own ("No space left on device",
/// "Read-only file system").
/// </summary>
public static class StoreWriteFailure
{
    /// <summary>The cause of <paramref name="error"/> for the store in <paramref name="directory"/>, e.g. "No space left on device".</summary>
    public static string Cause(SqliteException error, string directory)
    {
        var probe = Path.Combine(directory, ".meshgate-write-probe");
        try
        {
            using (var stream = new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough))
            {
                stream.Write(new byte[64 * 1024]);
                stream.Flush(flushToDisk: true);
            }

            return $"SQLite: {error.Message}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{FirstPart(e.Message)} (SQLite: {error.Message})";
        }
        finally
        {
            try
            {
                File.Delete(probe);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // a read-only filesystem cannot have the probe anyway
            }
        }
    }

    /// <summary>The error a failed commit becomes: nothing was stored, and why.</summary>
    public static StoreException ToStoreException(SqliteException error, string path) =>
        new("InternalError", 500, $"the store could not write {path}: {Cause(error, System.IO.Path.GetDirectoryName(path) ?? ".")}; nothing of this change was stored");

    /// <summary>.NET's message is "No space left on device : 'PATH'"; the path is the probe's, which says nothing.</summary>
    private static string FirstPart(string message)
    {
        var cut = message.IndexOf(" : '", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
