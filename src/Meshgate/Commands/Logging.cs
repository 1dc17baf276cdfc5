using Microsoft.Extensions.Logging;

namespace Meshgate.Commands;

/// <summary>The servers' console logging: one line per event on stderr, ASP.NET's chatter at warnings only.</summary>
public static class Logging
{
    public static ILoggerFactory CreateFactory() => LoggerFactory.Create(logging => logging
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        })
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
        .SetMinimumLevel(LogLevel.Information)
        .AddFilter("Microsoft", LogLevel.Warning)
        .AddFilter("Yarp", LogLevel.Warning)
        .AddFilter("Microsoft.Hosting.Lifetime", LogLevel.None)
        .AddFilter("Microsoft.Extensions.Hosting", LogLevel.None));
}
