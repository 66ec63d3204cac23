using DiffusionGrpc.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace DiffusionGrpc.Cli;

/// <summary>A DiffusionGrpc host on a free loopback port of this process, for runs given no server address.</summary>
internal sealed class InProcessServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessServer(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>The h2c address of the server.</summary>
    public string Address { get; }

    /// <summary>Starts a host with every role; <paramref name="hostArgs"/> are host configuration (e.g. <c>--Diffusion:ModelsPath=DIR</c>).</summary>
    public static async Task<InProcessServer> StartAsync(IEnumerable<string> hostArgs, CancellationToken cancellationToken)
    {
        // Entries are configuration as Key=Value (e.g. Diffusion:ModelsPath=DIR), with or without leading dashes.
        var args = hostArgs.Select(a => a.StartsWith("--", StringComparison.Ordinal) ? a : "--" + a);
        var (app, address) = await DiffusionHost.StartOnLoopbackAsync(args, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        }, cancellationToken).ConfigureAwait(false);
        return new InProcessServer(app, address);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
