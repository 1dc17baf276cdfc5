using System.Text;
using System.Text.RegularExpressions;

namespace Meshgate.Commands;

/// <summary>
/// The <c>data</c> of a Secret (or ConfigMap) built from kubectl's sources (<c>kubectl create secret generic</c>, <c>create configmap</c>): files, directories and
/// literals, each key checked as Kubernetes checks Secret keys. Errors name the flag and the file, never a value.
/// </summary>
public sealed partial class SecretData(string kind = "Secret")
{
    /// <summary>The API server refuses a Secret whose data is larger (core/v1 MaxSecretSize).</summary>
    public const int MaxSize = 1024 * 1024;

    private readonly SortedDictionary<string, byte[]> _data = new(StringComparer.Ordinal);
    private long _size;

    public IReadOnlyDictionary<string, byte[]> Data => _data;

    /// <summary>
    /// <c>--from-file=[KEY=]PATH</c>: a file under KEY (default: its base name), or each regular file of a directory
    /// under its own name (kubectl's ParseFileSource and handleSecretFromFileSources).
    /// </summary>
    public void AddFileSource(string source, string flag = "--from-file")
    {
        var at = $"{flag}={source}";
        var (key, path) = ParseFileSource(source, at);
        FileSystemInfo info = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        if (!info.Exists)
        {
            throw new CliException($"error: {at}: error reading {path}: no such file or directory");
        }

        if (info is DirectoryInfo directory)
        {
            if (key is not null)
            {
                throw new CliException($"error: {at}: cannot give a key name for a directory path; use --from-file={path} (each file becomes a key named after it)");
            }

            IEnumerable<FileInfo> files;
            try
            {
                files = [.. directory.EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal)];
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"error: {at}: error listing files in {path}: {Why(e)}");
            }

            // Regular files only, as kubectl (os.ReadDir's type: symbolic links are skipped too).
            foreach (var file in files.Where(f => (f.Attributes & FileAttributes.ReparsePoint) == 0))
            {
                Add(file.Name, ReadFile(file, at), at);
            }

            return;
        }

        Add(key ?? Path.GetFileName(path), ReadFile((FileInfo)info, at), at);
    }

    /// <summary><c>--from-literal=KEY=VALUE</c>: split at the first '=', so values may hold '=' (kubectl's ParseLiteralSource).</summary>
    /// <param name="position">Which <c>--from-literal</c> this is (1-based), to name it without printing its value.</param>
    public void AddLiteralSource(string source, int position)
    {
        var equals = source.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            var why = equals == 0 ? "the key before '=' is empty" : "it has no '='";
            throw new CliException($"error: --from-literal (number {position}): invalid literal source, expected key=value: {why}");
        }

        var key = source[..equals];
        Add(key, Encoding.UTF8.GetBytes(source[(equals + 1)..]), $"--from-literal={key}=...");
    }

    /// <summary>Adds one key, checked as Kubernetes checks Secret keys (IsConfigMapKey) and refused when already there.</summary>
    public void Add(string key, byte[] value, string at)
    {
        if (CheckKey(key) is { } error)
        {
            throw new CliException($"error: {at}: \"{key}\" is not valid key name for a {kind} {error}");
        }

        if (!_data.TryAdd(key, value))
        {
            throw new CliException($"error: {at}: cannot add key {key}, another key by that name already exists; give this one another name with --from-file=KEY=PATH");
        }

        _size += value.Length;
        if (_size > MaxSize)
        {
            throw new CliException($"error: {at}: the {kind}'s data would be {_size} bytes; a {kind} holds at most {MaxSize} bytes (1 MiB)");
        }
    }

    /// <summary>Kubernetes' IsConfigMapKey, whose rules Secret keys share: its messages, or null when valid.</summary>
    public static string? CheckKey(string key)
    {
        var errors = new List<string>();
        if (key.Length > 253)
        {
            errors.Add("must be no more than 253 characters");
        }

        if (!KeyRegex().IsMatch(key))
        {
            errors.Add("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
        }

        if (key == ".")
        {
            errors.Add("must not be '.'");
        }
        else if (key == "..")
        {
            errors.Add("must not be '..'");
        }
        else if (key.StartsWith("..", StringComparison.Ordinal))
        {
            errors.Add("must not start with '..'");
        }

        return errors.Count == 0 ? null : string.Join(';', errors);
    }

    /// <summary>Reads a whole file for a flag such as <c>--cert</c>, with the same errors as <c>--from-file</c>.</summary>
    public static byte[] ReadFile(string path, string at)
    {
        var info = new FileInfo(path);
        return info.Exists
            ? ReadFile(info, at)
            : throw new CliException($"error: {at}: error reading {path}: {(Directory.Exists(path) ? "is a directory" : "no such file or directory")}");
    }

    private static byte[] ReadFile(FileInfo file, string at)
    {
        try
        {
            // Checked before reading, so a wrong path to a large file fails at once.
            if (file.Length > MaxSize)
            {
                throw new CliException($"error: {at}: {file.FullName} is {file.Length} bytes; a Secret holds at most {MaxSize} bytes (1 MiB)");
            }

            return File.ReadAllBytes(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"error: {at}: error reading {file.FullName}: {Why(e)}");
        }
    }

    // kubectl's ParseFileSource: PATH, or KEY=PATH with exactly one '='.
    private static (string? Key, string Path) ParseFileSource(string source, string at)
    {
        var separators = source.Count(c => c == '=');
        return separators switch
        {
            0 when source.Length == 0 => throw new CliException($"error: {at}: the file path is empty; use --from-file=[KEY=]PATH"),
            0 => (null, source),
            1 when source[0] == '=' => throw new CliException($"error: {at}: key name for file path {source[1..]} missing; use --from-file=KEY=PATH, or --from-file=PATH for a key named after the file"),
            1 when source[^1] == '=' => throw new CliException($"error: {at}: file path for key name {source[..^1]} missing; use --from-file=KEY=PATH"),
            1 => (source[..source.IndexOf('=', StringComparison.Ordinal)], source[(source.IndexOf('=', StringComparison.Ordinal) + 1)..]),
            _ => throw new CliException($"error: {at}: key names or file paths cannot contain '='; use --from-file=KEY=PATH"),
        };
    }

    private static string Why(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        FileNotFoundException or DirectoryNotFoundException => "no such file or directory",
        _ => e.Message,
    };

    [GeneratedRegex("^[-._a-zA-Z0-9]+$")]
    private static partial Regex KeyRegex();
}
