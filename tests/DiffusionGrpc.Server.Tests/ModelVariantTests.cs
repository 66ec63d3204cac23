using DiffusionGrpc.Contracts.V1;

namespace DiffusionGrpc.Server.Tests;

/// <summary>Every fixture variant (element types, timestep shapes, external data, LCM) through the real loading path.</summary>
public sealed class ModelVariantTests(FixtureServer fixture) : IClassFixture<FixtureServer>
{
    private LoopbackServer Server => fixture.Server;

    [Theory]
    [InlineData("tiny-fp32", SchedulerKind.Unspecified)]
    [InlineData("tiny-external-data", SchedulerKind.Unspecified)]
    [InlineData("tiny-lcm", SchedulerKind.Euler)]
    [InlineData("tiny-fp32", SchedulerKind.EulerAncestral)]
    [InlineData("tiny-fp32", SchedulerKind.Ddim)]
    [InlineData("tiny-fp32", SchedulerKind.Pndm)]
    public async Task Each_variant_generates_a_finite_image(string model, SchedulerKind scheduler)
    {
        var updates = await Server.GenerateAllAsync(new GenerateRequest
        {
            Model = model, Prompt = "a red circle", Steps = 4, Seed = 2, NumImages = 2,
            Scheduler = new SchedulerOptions { Kind = scheduler },
        });
        var result = updates[^1].Result;
        Assert.Equal(2, result.Images.Count);
        Assert.True(updates.Count(u => u.Step is not null) >= 4);
        using var image = result.Images[0].DecodeImage();
        Assert.Equal(result.Resolved.Width, image.Width);
    }

    [Fact]
    public async Task Lcm_model_takes_the_guidance_embedding_not_a_doubled_batch()
    {
        var request = new GenerateRequest { Model = "tiny-lcm", Prompt = "a red circle", Steps = 4, Seed = 4, GuidanceScale = 8f, Scheduler = new SchedulerOptions { Kind = SchedulerKind.Euler } };
        var a = (await Server.GenerateAllAsync(request))[^1].Result;
        request.GuidanceScale = 2f;
        var b = (await Server.GenerateAllAsync(request))[^1].Result;
        Assert.Equal(SchedulerKind.Euler, a.Resolved.Scheduler.Kind);
        Assert.NotEqual(a.Images[0].Data, b.Images[0].Data);
    }
}
