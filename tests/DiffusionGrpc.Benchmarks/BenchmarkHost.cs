using DiffusionGrpc.Client;
using DiffusionGrpc.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DiffusionGrpc.Benchmarks;

/// <summary>A host on a free loopback port, quiet, for measurements.</summary>
internal sealed class BenchmarkHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BenchmarkHost(WebApplication app, string address)
    {
        _app = app;
        Address = address;
        Client = DiffusionClient.Connect(address);
    }

    public string Address { get; }

    public DiffusionClient Client { get; }

    public static async Task<BenchmarkHost> StartAsync(string modelsPath, params string[] settings)
    {
        var args = new List<string> { "--urls", "http://127.0.0.1:0", $"--Diffusion:ModelsPath={modelsPath}" };
        args.AddRange(settings.Select(s => "--" + s));
        var app = DiffusionHost.Create(args.ToArray(), b => b.Logging.ClearProviders().SetMinimumLevel(LogLevel.Error));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var host = new BenchmarkHost(app, address);
        await host.WaitServingAsync();
        return host;
    }

    private async Task WaitServingAsync()
    {
        var health = new Grpc.Health.V1.Health.HealthClient(Grpc.Net.Client.GrpcChannel.ForAddress(Address));
        while ((await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest())).Status != Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving)
        {
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
