using DiffusionGrpc.Contracts.V1;
using Grpc.Core;

namespace DiffusionGrpc.Server.Tests;

/// <summary>Three single-role hosts and an orchestrator on separate loopback ports.</summary>
public sealed class SplitModeTests
{
    [Fact]
    public async Task Split_hosts_generate_exactly_what_one_host_does()
    {
        await using var textEncoder = await LoopbackServer.StartAsync("Diffusion:Roles=TextEncoder");
        await using var denoiser = await LoopbackServer.StartAsync("Diffusion:Roles=Denoiser");
        await using var denoiser2 = await LoopbackServer.StartAsync("Diffusion:Roles=Denoiser");
        await using var vae = await LoopbackServer.StartAsync("Diffusion:Roles=VaeDecoder");
        await using var orchestrator = await LoopbackServer.StartAsync(
            "Diffusion:Roles=Generation",
            $"Diffusion:Remote:TextEncoder={textEncoder.Address}",
            $"Diffusion:Remote:Denoiser={denoiser.Address},{denoiser2.Address}",
            $"Diffusion:Remote:VaeDecoder={vae.Address}");
        await using var allInOne = await LoopbackServer.StartAsync();

        var request = new GenerateRequest { Model = "tiny-fp32", Prompt = "a red circle", Steps = 3, Seed = 9 };
        var split = await orchestrator.GenerateAllAsync(request);
        var local = await allInOne.GenerateAllAsync(request);
        Assert.Equal(3, split.Count(u => u.Step is not null));
        Assert.Equal(local[^1].Result.Images[0].Data, split[^1].Result.Images[0].Data);
        Assert.Equal(local[^1].Result.Resolved, split[^1].Result.Resolved);

        // Single-role hosts serve only their role.
        var ex = await Assert.ThrowsAsync<RpcException>(() => textEncoder.GenerateAllAsync(request));
        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
        var models = await orchestrator.Client.ListModelsAsync();
        Assert.Contains(models, m => m.Id == "tiny-fp32");

        // Round robin over the two denoisers: the denoising itself alternates between them.
        for (int i = 0; i < 3; i++)
        {
            Assert.NotNull((await orchestrator.GenerateAllAsync(request))[^1].Result);
        }
        Assert.Contains(denoiser.Logs.Lines, l => l.Contains("Denoising", StringComparison.Ordinal));
        Assert.Contains(denoiser2.Logs.Lines, l => l.Contains("Denoising", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_remote_stage_that_is_down_is_unavailable()
    {
        await using var orchestrator = await LoopbackServer.StartAsync(
            "Diffusion:Roles=Generation,TextEncoder,VaeDecoder",
            "Diffusion:Remote:Denoiser=http://127.0.0.1:1",
            "Diffusion:Resilience:MaxRetries=1",
            "Diffusion:Resilience:RetryDelay=00:00:00.050");
        var ex = await Assert.ThrowsAsync<RpcException>(() => orchestrator.GenerateAllAsync(new GenerateRequest { Model = "tiny-fp32", Prompt = "x", Steps = 1 }));
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
    }
}
