using DiffusionGrpc.Contracts.V1;

namespace DiffusionGrpc.Server.Tests;

/// <summary>Every fixture variant (element types, timestep shapes, external data, LCM) through the real loading path.</summary>
public sealed class ModelVariantTests(FixtureServer fixture) : IClassFixture<FixtureServer>
{
    private LoopbackServer Server => fixture.Server;

    [Theory]
    [InlineData("tiny-fp32", SchedulerKind.Unspecified)]
    [InlineData("tiny-external-data", SchedulerKind.Unspecified)]
    [InlineData("tiny-fp16", SchedulerKind.Unspecified)]
    [InlineData("tiny-fp16", SchedulerKind.EulerAncestral)]
    [InlineData("tiny-legacy", SchedulerKind.Unspecified)]
    [InlineData("tiny-legacy", SchedulerKind.Pndm)]
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

    [Fact]
    public async Task Legacy_int32_ids_and_int64_per_row_timesteps_equal_fp32_on_integer_timesteps()
    {
        // Same weights as tiny-fp32; DDIM's timesteps are integers, so the int64 cast loses nothing. The
        // graph reshapes its [batch] timestep to [N, 1, 1, 1]: a count other than the UNet batch (2B under
        // guidance) would fail the run.
        foreach (float guidance in new[] { 7.5f, 1f })
        {
            var fp32 = await FinalLatentsAsync("tiny-fp32", SchedulerKind.Ddim, guidance);
            var legacy = await FinalLatentsAsync("tiny-legacy", SchedulerKind.Ddim, guidance);
            Assert.Equal(fp32, legacy);
        }
    }

    [Fact]
    public async Task Fp16_model_with_int32_ids_and_a_scalar_timestep_follows_the_fp32_model()
    {
        var encoded32 = await Server.EncodeAsync("tiny-fp32", "a red circle", "");
        var encoded16 = await Server.EncodeAsync("tiny-fp16", "a red circle", "");
        // float16 outputs reach the wire as float32.
        Assert.Equal(DataType.Float32, encoded16.Embeddings.Dtype);
        Assert.Equal(encoded32.Tokens, encoded16.Tokens);
        var e32 = encoded32.Embeddings.Floats();
        var e16 = encoded16.Embeddings.Floats();
        Assert.All(e32.Zip(e16), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-3f, $"{p.First} vs {p.Second}"));

        // Without guidance the float16 rounding of the UNet's inputs and outputs stays near float16's
        // precision; guidance 7.5 amplifies the difference of the two halves' rounding.
        foreach (var (guidance, tolerance) in new[] { (1f, 5e-3), (7.5f, 0.05) })
        {
            var fp32 = await FinalLatentsAsync("tiny-fp32", SchedulerKind.Lms, guidance);
            var fp16 = await FinalLatentsAsync("tiny-fp16", SchedulerKind.Lms, guidance, float16Embeddings: true);
            double scale = Math.Max(1.0, fp32.Max(MathF.Abs));
            double worst = fp32.Zip(fp16).Max(p => Math.Abs(p.First - p.Second)) / scale;
            Assert.True(worst <= tolerance, $"guidance {guidance}: fp16 latents differ from fp32 by {worst:g3} of their magnitude");
            Assert.NotEqual(fp32, fp16);
        }
    }

    private async Task<float[]> FinalLatentsAsync(string model, SchedulerKind scheduler, float guidance, bool float16Embeddings = false)
    {
        var request = await Server.DenoiseRequestAsync(model, batch: 2, steps: 5, guidance: guidance);
        request.Scheduler = new SchedulerOptions { Kind = scheduler };
        request.Preview = new PreviewOptions { Kind = PreviewKind.None };
        if (float16Embeddings)
        {
            request.TextEmbeddings = ToFloat16(request.TextEmbeddings);
            request.UncondEmbeddings = ToFloat16(request.UncondEmbeddings);
        }
        return (await Server.DenoiseAllAsync(request))[^1].Latents.Floats();
    }

    private static Tensor ToFloat16(Tensor tensor)
    {
        var halves = tensor.Floats().Select(v => (Half)v).ToArray();
        return new Tensor
        {
            Dtype = DataType.Float16,
            Shape = { tensor.Shape },
            Data = Google.Protobuf.ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(halves.AsSpan())),
        };
    }
}
