using Meshgate.Core.Resources;
using Meshgate.Core.Validation;
using Meshgate.Core.Yaml;

namespace Meshgate.ControlPlane.Api;

/// <summary>
/// Reads one file of an apply or delete request as <see cref="ResourceParser.ParseText"/> does (same objects, same
/// errors in the same order, a YAML error anywhere refuses the text with that error alone), but a large file's
/// documents are validated on the thread pool in batches while the next ones are read: YamlDotNet's parser is
/// sequential, and validation costs about as much as the read, so a 20,000-object apply takes about half the time
/// on two cores.
/// </summary>
internal static class RequestFileParser
{
    /// <summary>Below this many characters the file is read and validated on the request's thread alone.</summary>
    internal const int PipelineThreshold = 256 * 1024;

    /// <summary>Documents per validation batch: large enough to cost more than the hand-off, small enough to spread.</summary>
    private const int BatchSize = 256;

    public static ParseResult Parse(string text, string source, string defaultNamespace, bool enforceNamespace)
    {
        if (text.Length < PipelineThreshold || Environment.ProcessorCount < 2)
        {
            return ResourceParser.ParseText(text, source, defaultNamespace, enforceNamespace);
        }

        // At most one batch per core is in flight, so the JSON trees held at once stay a few batches' worth.
        using var slots = new SemaphoreSlim(Environment.ProcessorCount);
        var batches = new List<Task<ParseResult>>();
        var batch = new List<SourceDocument>(BatchSize);
        try
        {
            foreach (var document in YamlReader.ReadEach(text, source))
            {
                batch.Add(document);
                if (batch.Count == BatchSize)
                {
                    slots.Wait();
                    batches.Add(ValidateAsync(batch, slots, defaultNamespace, enforceNamespace));
                    batch = new List<SourceDocument>(BatchSize);
                }
            }
        }
        catch (YamlFormatException e)
        {
            WaitQuietly(batches); // the batches hold the semaphore; let them finish before it is disposed
            return new ParseResult([], [new ValidationError("error parsing input", "", "", e.Message)]);
        }
        catch
        {
            WaitQuietly(batches);
            throw;
        }

        var resources = new List<Resource>();
        var errors = new List<ValidationError>();
        foreach (var task in batches)
        {
            var result = task.GetAwaiter().GetResult(); // in document order; a failure surfaces as it would unbatched
            resources.AddRange(result.Resources);
            errors.AddRange(result.Errors);
        }

        var last = Validate(batch, defaultNamespace, enforceNamespace);
        resources.AddRange(last.Resources);
        errors.AddRange(last.Errors);
        return new ParseResult(resources, errors);
    }

    private static Task<ParseResult> ValidateAsync(List<SourceDocument> batch, SemaphoreSlim slots, string defaultNamespace, bool enforceNamespace) =>
        Task.Run(() =>
        {
            try
            {
                return Validate(batch, defaultNamespace, enforceNamespace);
            }
            finally
            {
                slots.Release();
            }
        });

    private static ParseResult Validate(List<SourceDocument> batch, string defaultNamespace, bool enforceNamespace)
    {
        var resources = new List<Resource>();
        var errors = new List<ValidationError>();
        foreach (var document in batch)
        {
            var result = ResourceParser.Parse(document, defaultNamespace, enforceNamespace);
            resources.AddRange(result.Resources);
            errors.AddRange(result.Errors);
        }

        return new ParseResult(resources, errors);
    }

    private static void WaitQuietly(List<Task<ParseResult>> batches)
    {
        foreach (var task in batches)
        {
            try
            {
                task.Wait();
            }
            catch (AggregateException)
            {
                // The read's own error is the one reported.
            }
        }
    }
}
