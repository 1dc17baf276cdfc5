using System.Collections.Concurrent;
using Meshgate.Proxy.Listeners;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Meshgate.Tests.Listeners;

/// <summary>
/// Kestrel's loggers in the proxy (<see cref="ScopelessLoggerFactory"/>): a scope Kestrel opens reaches no provider
/// (no AsyncLocal is set, so the connection's awaits carry no execution context), while events and filters are the
/// wrapped factory's.
/// </summary>
public sealed class ScopelessLoggerFactoryTests
{
    [Fact]
    public void BeginScope_PushesNothing_WhileTheSameFactoryUnwrappedDoes()
    {
        var provider = new ScopeRecordingProvider();
        using var factory = LoggerFactory.Create(logging => logging.AddProvider(provider));
        using var scopeless = new ScopelessLoggerFactory(factory);

        var plain = factory.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Connections");
        using (plain.BeginScope("ConnectionId:1"))
        {
            plain.LogWarning("inside a scope");
        }

        var kestrel = scopeless.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Connections");
        var scope = kestrel.BeginScope("ConnectionId:2");
        Assert.Null(scope);
        kestrel.LogWarning("no scope");

        Assert.Equal(["inside a scope [ConnectionId:1]", "no scope []"], provider.Lines);
    }

    [Fact]
    public void EventsAndFilters_AreTheWrappedFactorys()
    {
        var provider = new ScopeRecordingProvider();
        using var factory = LoggerFactory.Create(logging => logging.AddProvider(provider).AddFilter("Microsoft", LogLevel.Warning));
        using var scopeless = new ScopelessLoggerFactory(factory);
        var kestrel = scopeless.CreateLogger("Microsoft.AspNetCore.Server.Kestrel");

        Assert.False(kestrel.IsEnabled(LogLevel.Information));
        Assert.True(kestrel.IsEnabled(LogLevel.Warning));
        kestrel.LogInformation("filtered out");
        kestrel.LogError(new InvalidOperationException("boom"), "failed: {Reason}", "why");

        Assert.Equal(["failed: why []"], provider.Lines);
        Assert.Equal("boom", provider.LastException?.Message);
    }

    /// <summary>Records each event with the scopes in force, as a console provider with IncludeScopes would print them.</summary>
    private sealed class ScopeRecordingProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ConcurrentQueue<string> Lines { get; } = new();

        public Exception? LastException { get; private set; }

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(ScopeRecordingProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => owner._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scopes = new List<string>();
                owner._scopes.ForEachScope((scope, list) => list.Add(scope?.ToString() ?? ""), scopes);
                owner.Lines.Enqueue($"{formatter(state, exception)} [{string.Join(", ", scopes)}]");
                owner.LastException = exception ?? owner.LastException;
            }
        }
    }
}
