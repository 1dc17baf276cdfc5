using Meshgate;
using Meshgate.Commands;

// Ctrl-C and SIGTERM cancel the running command, which then stops cleanly.
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    Stop();
};
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    Stop();
});

return await Cli.RunAsync(args, CliContext.FromConsole(), cancellationToken: cancellation.Token);

void Stop()
{
    try
    {
        cancellation.Cancel();
    }
    catch (ObjectDisposedException)
    {
        // A signal handled on its own thread while Main was already returning: the command has stopped anyway.
    }
}
