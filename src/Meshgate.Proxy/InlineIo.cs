namespace Meshgate.Proxy;

/// <summary>
/// Inline I/O scheduling for the proxy process: socket completions run their continuations on the runtime's socket
/// threads (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>) and Kestrel runs handlers there too
/// (<c>UnsafePreferInlineScheduling</c>). On a small machine most of a request's cost was thread switches; this removes
/// them. The price: nothing on the data path may block, which the proxy's handlers never do (they only await; the
/// access log goes through a channel to a writer task; TLS chain checks never fetch from the network).
/// </summary>
public static class InlineIo
{
    /// <summary>The runtime's switch, read once when the first socket is used.</summary>
    public const string RuntimeVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Meshgate's switch: <c>0</c> or <c>false</c> turns inline I/O off for <c>meshgate proxy</c>.</summary>
    public const string EnvironmentVariable = "MESHGATE_INLINE_IO";

    /// <summary>
    /// Turns the runtime's inline completions on for this process unless the environment already decides; call before
    /// the first socket is used (the runtime reads the variable once). Returns whether they are on.
    /// </summary>
    public static bool EnableForProcess()
    {
        var current = Environment.GetEnvironmentVariable(RuntimeVariable);
        if (current is null)
        {
            Environment.SetEnvironmentVariable(RuntimeVariable, "1");
            return true;
        }

        return current == "1";
    }

    /// <summary>Whether <see cref="EnvironmentVariable"/> leaves inline I/O on (the default).</summary>
    public static bool EnabledByEnvironment() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is not ("0" or "false" or "False" or "FALSE");
}
