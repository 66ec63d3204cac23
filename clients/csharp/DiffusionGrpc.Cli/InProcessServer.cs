using DiffusionGrpc.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
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
        var args = new List<string> { "--urls", "http://127.0.0.1:0" };
        // Entries are configuration as Key=Value (e.g. Diffusion:ModelsPath=DIR), with or without leading dashes.
        args.AddRange(hostArgs.Select(a => a.StartsWith("--", StringComparison.Ordinal) ? a : "--" + a));
        var app = DiffusionHost.Create(args.ToArray(), builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new InProcessServer(app, address);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
