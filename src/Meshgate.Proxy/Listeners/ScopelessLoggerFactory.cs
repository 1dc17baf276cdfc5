using Microsoft.Extensions.Logging;

namespace Meshgate.Proxy.Listeners;

/// <summary>
/// Kestrel's loggers without scopes. Kestrel opens a logging scope around every connection (its connection id); with a
/// console provider the scope is pushed into an <see cref="AsyncLocal{T}"/>, so every await of every request on the
/// connection captures and restores an execution context (<c>ExecutionContext.RunInternal</c> in the issue-14
/// profiles). The proxy's log lines never print scopes, so dropping them changes no output; events still go to the
/// same providers at the same levels.
/// </summary>
internal sealed class ScopelessLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new ScopelessLogger(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    /// <summary>The wrapped factory belongs to the caller.</summary>
    public void Dispose()
    {
    }

    private sealed class ScopelessLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            inner.Log(logLevel, eventId, state, exception, formatter);
    }
}
