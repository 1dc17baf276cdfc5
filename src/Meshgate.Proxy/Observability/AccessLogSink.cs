namespace Meshgate.Proxy.Observability;

/// <summary>Where handlers send access-log entries; <see cref="Off"/> when logging is disabled (a null object, no checks on the hot path).</summary>
public class AccessLogSink
{
    public static readonly AccessLogSink Off = new();

    public virtual void Write(in AccessLogEntry entry)
    {
    }

    /// <summary>A sink that queues entries on an <see cref="AccessLogWriter"/>.</summary>
    public static AccessLogSink To(AccessLogWriter writer) => new WriterSink(writer);

    private sealed class WriterSink(AccessLogWriter writer) : AccessLogSink
    {
        public override void Write(in AccessLogEntry entry) => writer.TryEnqueue(in entry);
    }
}
