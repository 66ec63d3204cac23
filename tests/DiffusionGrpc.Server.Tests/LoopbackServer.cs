using DiffusionGrpc.Client;
using DiffusionGrpc.Server.Hosting;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace DiffusionGrpc.Server.Tests;

/// <summary>A real host on a free loopback port (Kestrel, h2c), with a real gRPC channel to it.</summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackServer(WebApplication app, string address, LogCollector logs)
    {
        _app = app;
        Address = address;
        Logs = logs;
        Channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20 });
        Client = new DiffusionClient(Channel);
    }

    /// <summary>The server's address.</summary>
    public string Address { get; }

    /// <summary>A channel to it.</summary>
    public GrpcChannel Channel { get; }

    /// <summary>The SDK client over <see cref="Channel"/>.</summary>
    public DiffusionClient Client { get; }

    /// <summary>Everything the host logged.</summary>
    public LogCollector Logs { get; }

    /// <summary>The host's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a host over the fixture models with extra configuration <c>Key=Value</c>, and waits until it reports SERVING.</summary>
    public static async Task<LoopbackServer> StartAsync(params string[] settings)
    {
        var args = new[] { $"--Diffusion:ModelsPath={TestPaths.FixtureModels}", "--Diffusion:ExecutionProvider=cpu" }.Concat(settings.Select(s => "--" + s));
        var logs = new LogCollector();
        var (app, address) = await DiffusionHost.StartOnLoopbackAsync(args, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
        });
        var server = new LoopbackServer(app, address, logs);
        await server.WaitUntilServingAsync();
        return server;
    }

    private async Task WaitUntilServingAsync()
    {
        var health = new Health.HealthClient(Channel);
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var reply = await health.CheckAsync(new HealthCheckRequest());
            if (reply.Status == HealthCheckResponse.Types.ServingStatus.Serving)
            {
                return;
            }
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException("The host did not report SERVING within 60 s.");
            }
            await Task.Delay(50);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Collects log lines of a host for assertions.</summary>
public sealed class LogCollector : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

    /// <summary>The lines so far.</summary>
    public IReadOnlyCollection<string> Lines => _lines;

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private sealed class Logger(LogCollector owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}");
            }
        }
    }
}

/// <summary>Paths of the repository used by the tests.</summary>
public static class TestPaths
{
    /// <summary>The repository root (the folder with DiffusionGrpc.sln).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The fixture models root.</summary>
    public static string FixtureModels => Path.Combine(RepositoryRoot, "tests", "fixtures", "models");

    /// <summary>The shipped models root.</summary>
    public static string ShippedModels => Path.Combine(RepositoryRoot, "models");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DiffusionGrpc.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("DiffusionGrpc.sln not found above the test binaries.");
    }
}

/// <summary>One host over the fixture models, shared by the tests of a class.</summary>
public sealed class FixtureServer : IAsyncLifetime
{
    /// <summary>The server.</summary>
    public LoopbackServer Server { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync() => Server = await LoopbackServer.StartAsync("Diffusion:DefaultModel=tiny-fp32");

    /// <inheritdoc />
    public async Task DisposeAsync() => await Server.DisposeAsync();
}
