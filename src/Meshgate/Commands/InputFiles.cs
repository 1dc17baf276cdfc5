using Meshgate.ControlPlane.Api;

namespace Meshgate.Commands;

/// <summary>Reads what <c>-f</c> names: a file, every .yaml/.yml/.json in a directory (sorted; <c>-R</c> for subdirectories), or <c>-</c> for stdin.</summary>
public static class InputFiles
{
    private const long MaxBytes = 16 * 1024 * 1024;

    public static IReadOnlyList<SourceFile> Read(IReadOnlyList<string> paths, bool recursive, TextReader stdin)
    {
        if (paths.Count == 0)
        {
            throw new CliException("error: must specify one of -f and -k");
        }

        var files = new List<SourceFile>();
        foreach (var path in paths)
        {
            if (path == "-")
            {
                files.Add(new SourceFile("stdin", stdin.ReadToEnd()));
            }
            else if (Directory.Exists(path))
            {
                var option = recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly;
                var found = Directory.EnumerateFiles(path, "*", option)
                    .Where(f => Path.GetExtension(f) is ".yaml" or ".yml" or ".json")
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (found.Count == 0)
                {
                    throw new CliException($"error: error reading [{path}]: recognized file extensions are [.json .yaml .yml]");
                }

                files.AddRange(found.Select(ReadFile));
            }
            else if (File.Exists(path))
            {
                files.Add(ReadFile(path));
            }
            else
            {
                throw new CliException($"error: the path \"{path}\" does not exist");
            }
        }

        return files;
    }

    private static SourceFile ReadFile(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxBytes)
        {
            throw new CliException($"error: {path} is {info.Length} bytes, more than the {MaxBytes / 1024 / 1024} MiB a configuration file may have");
        }

        return new SourceFile(path, File.ReadAllText(path));
    }
}
