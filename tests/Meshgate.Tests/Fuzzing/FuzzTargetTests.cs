using Meshgate.Fuzz.Targets;

using Xunit;

namespace Meshgate.Tests.Fuzzing;

/// <summary>
/// A short, fixed-seed run of every fuzz target (fuzz/README.md): each file of its corpus (the seeds and what
/// afl-fuzz grew), then deterministic mutations of them, through the same function afl-fuzz calls. Any exception the
/// target does not allow fails the test with the input, in base64, to reproduce it.
/// </summary>
public sealed class FuzzTargetTests
{
    private const int Mutations = 3000;

    public static TheoryData<string> Targets() => [.. FuzzTargets.All.Keys.Order(StringComparer.Ordinal)];

    [Fact]
    public void Targets_EveryOneHasASeedCorpus()
    {
        foreach (var name in FuzzTargets.All.Keys)
        {
            Assert.True(Corpus(name).Count >= 3, $"fuzz/corpus/{name} has fewer than 3 files");
        }

        Assert.Equal(
            FuzzTargets.All.Keys.Order(StringComparer.Ordinal),
            Directory.GetDirectories(Path.Combine(TestPaths.RepositoryRoot, "fuzz", "corpus")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Target_CorpusAndFixedSeedMutations_NoUnexpectedException(string name)
    {
        var target = FuzzTargets.All[name];
        var corpus = Corpus(name);
        foreach (var input in corpus)
        {
            RunOne(target, name, "corpus file", input);
        }

        var mutator = new InputMutator(corpus, Seed(name));
        for (var i = 0; i < Mutations; i++)
        {
            RunOne(target, name, $"mutation {i}", mutator.Next());
        }
    }

    [Fact]
    public void Mutator_SameSeed_SameInputs()
    {
        var corpus = Corpus("connect");
        var first = new InputMutator(corpus, 7);
        var second = new InputMutator(corpus, 7);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(first.Next(), second.Next());
        }
    }

    private static void RunOne(FuzzTarget target, string name, string what, byte[] input)
    {
        try
        {
            target(input);
        }
        catch (Exception e)
        {
            Assert.Fail($"fuzz target {name}, {what}: {e.GetType().Name}: {e.Message}\ninput (base64): {Convert.ToBase64String(input)}\n{e.StackTrace}");
        }
    }

    private static List<byte[]> Corpus(string name)
    {
        var directory = Path.Combine(TestPaths.RepositoryRoot, "fuzz", "corpus", name);
        return [.. Directory.GetFiles(directory).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];
    }

    // Stable across runs and machines (string.GetHashCode is randomised per process).
    private static int Seed(string name)
    {
        var seed = 20261207;
        foreach (var c in name)
        {
            seed = unchecked(seed * 31 + c);
        }

        return seed;
    }
}
