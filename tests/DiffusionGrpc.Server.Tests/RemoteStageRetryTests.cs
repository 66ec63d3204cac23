using System.Net;
using DiffusionGrpc.Client.Remote;
using DiffusionGrpc.Client.Stages;
using DiffusionGrpc.Contracts.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DiffusionGrpc.Server.Tests;

/// <summary>
/// The remote denoiser stage (Polly) against a scripted Denoiser service on loopback: UNAVAILABLE is
/// retried until a step has streamed, and never after.
/// </summary>
public sealed class RemoteStageRetryTests
{
    private static readonly StageResilienceOptions Fast = new() { MaxRetries = 3, RetryDelay = TimeSpan.FromMilliseconds(10) };

    [Theory]
    [InlineData(2, 0, 3, 1)] // refused twice before anything streamed
    [InlineData(0, 1, 2, 2)] // lost once while queued: the stream is opened again
    public async Task Unavailable_before_the_first_step_is_retried(int failAtOnce, int failWhileQueued, int calls, int queuedUpdates)
    {
        var script = new DenoiserScript { FailAtOnce = failAtOnce, FailWhileQueued = failWhileQueued };
        await using var host = await ScriptedDenoiserHost.StartAsync(script);
        var updates = await host.DenoiseAllAsync(Fast);
        Assert.Equal(calls, script.Calls);
        Assert.Equal(queuedUpdates, updates.Count(u => u.Queued is not null));
        Assert.Equal(2, updates.Count(u => u.Step is not null));
        Assert.Equal(DenoiseUpdate.UpdateOneofCase.Latents, updates[^1].UpdateCase);
    }

    [Fact]
    public async Task Unavailable_after_a_step_streamed_is_not_retried()
    {
        var script = new DenoiserScript { FailAfterFirstStep = true };
        await using var host = await ScriptedDenoiserHost.StartAsync(script);
        var updates = new List<DenoiseUpdate>();
        var ex = await Assert.ThrowsAsync<RpcException>(() => host.DenoiseAllAsync(Fast, updates));
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Equal(1, script.Calls);
        Assert.Single(updates, u => u.Step is not null);
    }

    [Fact]
    public async Task Retries_are_bounded()
    {
        var script = new DenoiserScript { FailAtOnce = int.MaxValue };
        await using var host = await ScriptedDenoiserHost.StartAsync(script);
        var ex = await Assert.ThrowsAsync<RpcException>(() => host.DenoiseAllAsync(Fast));
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Equal(1 + Fast.MaxRetries, script.Calls);
    }

    [Fact]
    public async Task Other_errors_are_not_retried()
    {
        var script = new DenoiserScript { FailAtOnce = int.MaxValue, FailureCode = StatusCode.InvalidArgument };
        await using var host = await ScriptedDenoiserHost.StartAsync(script);
        var ex = await Assert.ThrowsAsync<RpcException>(() => host.DenoiseAllAsync(Fast));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal(1, script.Calls);
    }

    /// <summary>What the scripted denoiser does on each call.</summary>
    private sealed class DenoiserScript
    {
        private int _calls;

        /// <summary>Calls that fail before sending anything.</summary>
        public int FailAtOnce { get; init; }

        /// <summary>Status of those failures.</summary>
        public StatusCode FailureCode { get; init; } = StatusCode.Unavailable;

        /// <summary>Calls (after the ones failing at once) that send a Queued update and then fail with UNAVAILABLE.</summary>
        public int FailWhileQueued { get; init; }

        /// <summary>Fail with UNAVAILABLE right after the first step of every call.</summary>
        public bool FailAfterFirstStep { get; init; }

        public int Calls => Volatile.Read(ref _calls);

        public int NextCall() => Interlocked.Increment(ref _calls);
    }

    private sealed class ScriptedDenoiser(DenoiserScript script) : Denoiser.DenoiserBase
    {
        public override async Task Denoise(DenoiseRequest request, IServerStreamWriter<DenoiseUpdate> responseStream, ServerCallContext context)
        {
            int call = script.NextCall();
            if (call <= script.FailAtOnce)
            {
                throw new RpcException(new Status(script.FailureCode, $"scripted failure {call}"));
            }
            await responseStream.WriteAsync(new DenoiseUpdate { Queued = new Queued { Position = 1 } });
            if (call <= script.FailAtOnce + script.FailWhileQueued)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "scripted failure while queued"));
            }
            await responseStream.WriteAsync(new DenoiseUpdate { Started = new DenoiseStarted { Model = "m", Steps = 2, TotalSteps = 2, BatchSize = 1 } });
            for (int step = 1; step <= 2; step++)
            {
                await responseStream.WriteAsync(new DenoiseUpdate { Step = new StepProgress { Step = step, TotalSteps = 2 } });
                if (script.FailAfterFirstStep)
                {
                    throw new RpcException(new Status(StatusCode.Unavailable, "scripted failure after a step"));
                }
            }
            await responseStream.WriteAsync(new DenoiseUpdate { Latents = Wire.TensorCodec.FromFloats(new float[4], 1, 4, 1, 1) });
        }
    }

    private sealed class ScriptedDenoiserHost : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly GrpcChannel _channel;

        private ScriptedDenoiserHost(WebApplication app, string address)
        {
            _app = app;
            _channel = GrpcChannel.ForAddress(address);
        }

        public static async Task<ScriptedDenoiserHost> StartAsync(DenoiserScript script)
        {
            var builder = WebApplication.CreateBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
            builder.Services.AddGrpc();
            builder.Services.AddSingleton(script);
            var app = builder.Build();
            app.MapGrpcService<ScriptedDenoiser>();
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new ScriptedDenoiserHost(app, address);
        }

        public async Task<List<DenoiseUpdate>> DenoiseAllAsync(StageResilienceOptions options, List<DenoiseUpdate>? updates = null)
        {
            updates ??= [];
            var stage = new GrpcDenoiserStage(new Denoiser.DenoiserClient(_channel), new StageResilience(options));
            await foreach (var update in stage.DenoiseAsync(new DenoiseRequest(), StageCallContext.From(default)))
            {
                updates.Add(update);
            }
            return updates;
        }

        public async ValueTask DisposeAsync()
        {
            _channel.Dispose();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
