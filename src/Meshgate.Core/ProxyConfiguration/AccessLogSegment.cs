namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// One piece of a compiled <see cref="AccessLogFormat"/>: literal text (<see cref="AccessLogOperator.Literal"/>), or an
/// operator printing a field of the entry.
/// </summary>
/// <param name="Operator">What to print; <see cref="AccessLogOperator.Literal"/> prints <paramref name="Text"/>.</param>
/// <param name="Text">The literal text (escapes resolved: <c>%%</c> is one '%'); null for operators.</param>
/// <param name="Fallback">
/// <c>%REQ(A?B)%</c>: the field printed when <paramref name="Operator"/>'s is absent; <see cref="AccessLogOperator.Literal"/> for none.
/// </param>
/// <param name="MaxLength"><c>%REQ(A):N%</c>: at most N bytes of the value; 0 for no limit.</param>
public readonly record struct AccessLogSegment(
    AccessLogOperator Operator,
    string? Text = null,
    AccessLogOperator Fallback = AccessLogOperator.Literal,
    int MaxLength = 0);
