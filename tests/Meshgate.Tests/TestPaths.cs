namespace Meshgate.Tests;

internal static class TestPaths
{
    public static string TestData => Path.Combine(AppContext.BaseDirectory, "TestData");

    /// <summary>The repository root (where Meshgate.slnx is), found upwards from the test binaries.</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Meshgate.slnx")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("Meshgate.slnx not found above " + AppContext.BaseDirectory);
        }
    }
}
