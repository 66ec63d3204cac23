using System.Diagnostics;
using DiffusionGrpc.Contracts.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionGrpc.Server.Tests;

/// <summary>Cancellation, deadlines and the bounded denoiser queue, each on a host of its own.</summary>
public sealed class CancellationAndQueueTests
{
    // VAE previews as PNG on every step keep the tiny fixture busy for seconds over 1000 steps.
    private static GenerateRequest Long(int steps = 1000, int size = 0) => new()
    {
        Prompt = "a red circle", Steps = steps, Seed = 1, Width = size, Height = size,
        Preview = new PreviewOptions { Kind = PreviewKind.Vae, Format = ImageFormat.Png },
    };

    [Fact]
    public async Task Cancelling_a_generation_stops_the_denoiser_within_a_step_and_frees_it()
    {
        await using var server = await LoopbackServer.StartAsync("Diffusion:DefaultModel=tiny-fp32");
        var queue = server.Services.GetRequiredService<Queueing.DenoiserQueue>();
        using var cts = new CancellationTokenSource();
        var steps = new List<StepProgress>();
        // 512 px: a full-size VAE preview and PNG per step make each step take milliseconds.
        var ex = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await foreach (var update in server.Client.GenerateAsync(Long(size: 512), cts.Token))
            {
                if (update.Step is not null)
                {
                    steps.Add(update.Step);
                    if (steps.Count == 3)
                    {
                        cts.Cancel();
                    }
                }
            }
        });
        var cancelled = Stopwatch.StartNew();
        Assert.True(ex is OperationCanceledException || (ex is RpcException rpc && rpc.StatusCode == StatusCode.Cancelled), ex.ToString());

        // The server notices, stops the loop and frees the denoiser while 997 steps remain.
        await WaitForAsync(() => queue.Running == 0);
        double freedAfter = cancelled.Elapsed.TotalSeconds;
        double perStep = (steps[2].ElapsedSeconds - steps[0].ElapsedSeconds) / 2;
        Assert.True(freedAfter < 997 * perStep / 4, $"freed {freedAfter:0.000} s after the cancel; a step takes {perStep:0.0000} s");
        await WaitForAsync(() => server.Logs.Lines.Any(l => l.Contains("cancelled", StringComparison.OrdinalIgnoreCase)));

        // The next request gets the denoiser at once.
        var updates = await server.GenerateAllAsync(Long(steps: 2));
        Assert.DoesNotContain(updates, u => u.Queued is not null);
        Assert.NotNull(updates[^1].Result);
    }

    [Fact]
    public async Task A_deadline_ends_the_call_with_deadline_exceeded()
    {
        await using var server = await LoopbackServer.StartAsync("Diffusion:DefaultModel=tiny-fp32");
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in server.Client.GenerateAsync(Long(), deadline: DateTime.UtcNow.AddMilliseconds(300)))
            {
            }
        });
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        var updates = await server.GenerateAllAsync(Long(steps: 1));
        Assert.NotNull(updates[^1].Result);
    }

    [Fact]
    public async Task Busy_denoiser_queues_with_positions_then_rejects_past_capacity()
    {
        await using var server = await LoopbackServer.StartAsync("Diffusion:DefaultModel=tiny-fp32", "Diffusion:Queue:MaxConcurrent=1", "Diffusion:Queue:Capacity=1");
        using var cts = new CancellationTokenSource();
        var running = new TaskCompletionSource();
        var first = Task.Run(async () =>
        {
            try
            {
                await foreach (var update in server.Client.GenerateAsync(Long(), cts.Token))
                {
                    if (update.Step is not null)
                    {
                        running.TrySetResult();
                    }
                }
            }
            catch (Exception) when (cts.IsCancellationRequested)
            {
            }
        });
        await running.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var queuedSeen = new TaskCompletionSource<int>();
        var second = Task.Run(async () =>
        {
            var updates = new List<GenerateUpdate>();
            await foreach (var update in server.Client.GenerateAsync(Long(steps: 2)))
            {
                if (update.Queued is not null)
                {
                    queuedSeen.TrySetResult(update.Queued.Position);
                }
                updates.Add(update);
            }
            return updates;
        });
        Assert.Equal(1, await queuedSeen.Task.WaitAsync(TimeSpan.FromSeconds(30)));

        await TestRequests.AssertFailsAsync(StatusCode.ResourceExhausted, () => server.GenerateAllAsync(Long(steps: 2)));

        cts.Cancel();
        await first;
        var secondUpdates = await second.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.NotNull(secondUpdates[^1].Result);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (int i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }
        Assert.True(condition());
    }
}
