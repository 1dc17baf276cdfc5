namespace Meshgate.Core.Analysis;

/// <summary>One family of checks over the indexed configuration; reports only codes from <see cref="Codes"/>.</summary>
internal interface IAnalyzer
{
    void Analyze(AnalysisIndex index, List<Finding> findings);
}
