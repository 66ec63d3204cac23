using DiffusionGrpc.Contracts.V1;
using Grpc.Core;

namespace DiffusionGrpc.Server.Tests;

/// <summary>DPM++ 2M and LCM through the services: chosen by config or request, options checked, noise per image.</summary>
public sealed class SchedulerServiceTests(FixtureServer fixture) : IClassFixture<FixtureServer>
{
    private LoopbackServer Server => fixture.Server;

    [Fact]
    public async Task ListModels_reports_LCM_as_the_default_of_the_LCM_fixture()
    {
        var models = await Server.Client.ListModelsAsync();
        var lcm = models.Single(m => m.Id == "tiny-lcm");
        Assert.Equal(SchedulerKind.Lcm, lcm.DefaultScheduler);
        Assert.Equal("LCMScheduler", lcm.SchedulerClass);
    }

    [Theory]
    [InlineData("tiny-lcm", SchedulerKind.Unspecified, SchedulerKind.Lcm, false)]
    [InlineData("tiny-lcm", SchedulerKind.Dpmpp2M, SchedulerKind.Dpmpp2M, false)]
    [InlineData("tiny-fp32", SchedulerKind.Dpmpp2M, SchedulerKind.Dpmpp2M, false)]
    [InlineData("tiny-fp32", SchedulerKind.Dpmpp2M, SchedulerKind.Dpmpp2M, true)]
    [InlineData("tiny-fp32", SchedulerKind.Lcm, SchedulerKind.Lcm, false)]
    public async Task Dpm_and_lcm_generate_finite_images(string model, SchedulerKind kind, SchedulerKind resolvedKind, bool karras)
    {
        var options = new SchedulerOptions { Kind = kind };
        if (karras) options.UseKarrasSigmas = true;
        var updates = await Server.GenerateAllAsync(new GenerateRequest
        {
            Model = model, Prompt = "a red circle", Steps = 4, Seed = 3, NumImages = 2, Scheduler = options,
        });
        var result = updates[^1].Result;
        Assert.Equal(resolvedKind, result.Resolved.Scheduler.Kind);
        Assert.Equal(2, result.Images.Count);
        Assert.Equal(4, updates.Count(u => u.Step is not null));
        using var image = result.Images[0].DecodeImage();
        Assert.Equal(result.Resolved.Width, image.Width);
    }

    [Fact]
    public async Task Lcm_rejects_more_steps_than_original_inference_steps()
    {
        await TestRequests.AssertFailsAsync(StatusCode.InvalidArgument,
            () => Server.GenerateAllAsync(new GenerateRequest { Model = "tiny-lcm", Prompt = "x", Steps = 51 }), "steps");
        var ok = await Server.GenerateAllAsync(new GenerateRequest { Model = "tiny-lcm", Prompt = "x", Steps = 50, Seed = 1 });
        Assert.Single(ok[^1].Result.Images);
    }

    [Fact]
    public async Task Karras_sigmas_are_rejected_where_diffusers_has_none()
    {
        foreach (var kind in new[] { SchedulerKind.EulerAncestral, SchedulerKind.Lcm, SchedulerKind.Pndm })
        {
            await TestRequests.AssertFailsAsync(StatusCode.InvalidArgument,
                () => Server.GenerateAllAsync(new GenerateRequest
                {
                    Model = "tiny-fp32", Prompt = "x", Steps = 2,
                    Scheduler = new SchedulerOptions { Kind = kind, UseKarrasSigmas = true },
                }),
                "scheduler.use_karras_sigmas");
        }
    }

    [Theory]
    [InlineData("tiny-lcm", SchedulerKind.Unspecified)]
    [InlineData("tiny-fp32", SchedulerKind.Lcm)]
    [InlineData("tiny-fp32", SchedulerKind.Dpmpp2M)]
    public async Task Image_i_of_a_batch_follows_its_own_generator(string model, SchedulerKind kind)
    {
        // LCM draws noise every step: image 0 of a batch of 2 must equal a batch of 1 with the same seed, and
        // image 1 a batch of 1 seeded seed + 1.
        async Task<float[]> LatentsAsync(int batch, ulong seed)
        {
            var request = await Server.DenoiseRequestAsync(model, batch: batch, steps: 4);
            request.Seed = seed;
            request.Scheduler = new SchedulerOptions { Kind = kind };
            request.Preview = new PreviewOptions { Kind = PreviewKind.None };
            return (await Server.DenoiseAllAsync(request))[^1].Latents.Floats();
        }
        float[] pair = await LatentsAsync(2, 10);
        float[] first = await LatentsAsync(1, 10);
        float[] second = await LatentsAsync(1, 11);
        int n = first.Length;
        for (int i = 0; i < n; i++)
        {
            Assert.True(Math.Abs(pair[i] - first[i]) <= 1e-4f * Math.Max(1f, Math.Abs(first[i])), $"image 0, {i}: {pair[i]} vs {first[i]}");
            Assert.True(Math.Abs(pair[n + i] - second[i]) <= 1e-4f * Math.Max(1f, Math.Abs(second[i])), $"image 1, {i}: {pair[n + i]} vs {second[i]}");
        }
    }
}
