using DiffusionGrpc.Client;
using DiffusionGrpc.Server.Hosting;
using Microsoft.AspNetCore.Builder;
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
        var args = new[] { $"--Diffusion:ModelsPath={modelsPath}" }.Concat(settings.Select(s => "--" + s));
        var (app, address) = await DiffusionHost.StartOnLoopbackAsync(args, b => b.Logging.ClearProviders().SetMinimumLevel(LogLevel.Error));
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
