using Meshgate;
using Meshgate.Commands;

// Ctrl-C and SIGTERM cancel the running command, which then stops cleanly.
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    cancellation.Cancel();
});

return await Cli.RunAsync(args, CliContext.FromConsole(), cancellationToken: cancellation.Token);
