using Microsoft.Extensions.Logging;

namespace Meshgate.Commands;

/// <summary>The servers' console logging: one line per event on stderr, ASP.NET's chatter at warnings only.</summary>
public static class Logging
{
    public static ILoggerFactory CreateFactory(LogLevel minimum = LogLevel.Information) => LoggerFactory.Create(logging => logging
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        })
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
        .SetMinimumLevel(minimum)
        // gRPC logs every closed stream at information level with a stack trace; the push service logs disconnects.
        .AddFilter("Grpc", LogLevel.Warning)
        .AddFilter("Microsoft", LogLevel.Warning)
        // YARP warns (with a stack trace) about every failed upstream request; the access log already says it.
        .AddFilter("Yarp", LogLevel.Error)
        .AddFilter("Microsoft.Hosting.Lifetime", LogLevel.None)
        .AddFilter("Microsoft.Extensions.Hosting", LogLevel.None));
}
