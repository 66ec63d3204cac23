using DiffusionGrpc.Contracts.V1;
using Grpc.Core;

namespace DiffusionGrpc.Server.Tests;

/// <summary>Every error path answers with the contract's status and field, and the server keeps serving.</summary>
public sealed class ValidationTests(FixtureServer fixture) : IClassFixture<FixtureServer>
{
    private LoopbackServer Server => fixture.Server;

    public static TheoryData<string, Action<GenerateRequest>> BadGenerateRequests => new()
    {
        { "width", r => r.Width = 100 },
        { "width", r => r.Width = 4096 },
        { "height", r => r.Height = -8 },
        { "steps", r => r.Steps = 1001 },
        { "steps", r => r.Steps = -1 },
        { "guidance_scale", r => r.GuidanceScale = float.NaN },
        { "guidance_scale", r => r.GuidanceScale = float.PositiveInfinity },
        { "num_images", r => r.NumImages = 17 },
        { "num_images", r => r.NumImages = -1 },
        { "scheduler.kind", r => r.Scheduler = new SchedulerOptions { Kind = (SchedulerKind)99 } },
        { "scheduler.timestep_spacing", r => r.Scheduler = new SchedulerOptions { TimestepSpacing = (TimestepSpacing)42 } },
        { "scheduler.eta", r => r.Scheduler = new SchedulerOptions { Kind = SchedulerKind.Ddim, Eta = 2 } },
        { "preview.every_n_steps", r => r.Preview = new PreviewOptions { EveryNSteps = -3 } },
        { "preview.kind", r => r.Preview = new PreviewOptions { Kind = (PreviewKind)9 } },
        { "preview.format", r => r.Preview = new PreviewOptions { Format = (ImageFormat)9 } },
        { "output_format", r => r.OutputFormat = (ImageFormat)7 },
        { "prompt", r => r.Prompt = new string('a', 10_001) },
        { "scheduler.use_karras_sigmas", r => r.Scheduler = new SchedulerOptions { Kind = SchedulerKind.Ddim, UseKarrasSigmas = true } },
        { "scheduler.eta", r => r.Scheduler = new SchedulerOptions { Kind = SchedulerKind.Euler, Eta = 0.5f } },
    };

    [Theory]
    [MemberData(nameof(BadGenerateRequests))]
    public async Task Bad_generate_fields_are_invalid_argument_naming_the_field(string field, Action<GenerateRequest> spoil)
    {
        var request = new GenerateRequest { Prompt = "a red circle", Steps = 2, Seed = 1 };
        spoil(request);
        await TestRequests.AssertFailsAsync(StatusCode.InvalidArgument, () => Server.GenerateAllAsync(request), field);
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("../models")]
    [InlineData("..")]
    [InlineData("tiny-fp32/../tiny-fp32")]
    [InlineData("/etc")]
    [InlineData("tiny-fp32\\x")]
    public async Task Unknown_or_escaping_model_ids_are_not_found(string model)
    {
        await TestRequests.AssertFailsAsync(StatusCode.NotFound, () => Server.GenerateAllAsync(new GenerateRequest { Model = model, Prompt = "x", Steps = 1 }));
        await TestRequests.AssertFailsAsync(StatusCode.NotFound, () => Server.EncodeAsync(model, "x"));
        await TestRequests.AssertFailsAsync(StatusCode.NotFound, async () => await Server.Client.Denoiser.DescribeModelAsync(new DescribeModelRequest { Model = model }));
    }

    [Fact]
    public async Task Encode_limits_prompt_count()
    {
        await TestRequests.AssertFailsAsync(StatusCode.InvalidArgument, () => Server.EncodeAsync("tiny-fp32"), "prompts");
        await TestRequests.AssertFailsAsync(StatusCode.InvalidArgument, () => Server.EncodeAsync("tiny-fp32", Enumerable.Repeat("x", 65).ToArray()), "prompts");
    }

    [Fact]
    public async Task Bad_tensors_are_invalid_argument()
    {
        var good = await Server.DenoiseRequestAsync("tiny-fp32", steps: 1);

        var missing = good.Clone();
        missing.TextEmbeddings = null;
        await TestRequests.AssertFailsAsync(StatusCode.InvalidArgument, () => Server.DenoiseAllAsync(missing), "text_embeddings");

        var shortData = good.Clone();
        shortData.TextEmbeddings.Data = Google.Protobuf.ByteString.CopyFrom(shortData.TextEmbeddings.Data.Span[..100]);
        await TestRequests.AssertFailsAsync(StatusCode.InvalidArgument, () => Server.DenoiseAllAsync(shortData), "text_embeddings.data");

        var noDtype = good.Clone();
        noDtype.TextEmbeddings.Dtype = DataType.Unspecified;
        await TestRequests.AssertFailsAsync(StatusCode.InvalidArgument, () => Server.DenoiseAllAsync(noDtype), "text_embeddings.dtype");

        var wrongHidden = good.Clone();
        wrongHidden.TextEmbeddings = Wire.TensorCodec.FromFloats(new float[77 * 16], 1, 77, 16);
        await TestRequests.AssertFailsAsync(StatusCode.InvalidArgument, () => Server.DenoiseAllAsync(wrongHidden), "text_embeddings.shape");

        var badUncond = good.Clone();
        badUncond.UncondEmbeddings = Wire.TensorCodec.FromFloats(new float[3 * 77 * 32], 3, 77, 32);
        await TestRequests.AssertFailsAsync(StatusCode.InvalidArgument, () => Server.DenoiseAllAsync(badUncond), "uncond_embeddings.shape");

        var zeroDim = good.Clone();
        zeroDim.TextEmbeddings = new Tensor { Dtype = DataType.Float32, Shape = { 0, 77, 32 } };
        await TestRequests.AssertFailsAsync(StatusCode.InvalidArgument, () => Server.DenoiseAllAsync(zeroDim), "text_embeddings.shape");

        var latents = Wire.TensorCodec.FromFloats(new float[3 * 8 * 8], 1, 3, 8, 8);
        await TestRequests.AssertFailsAsync(StatusCode.InvalidArgument,
            async () => await Server.Client.VaeDecoder.DecodeAsync(new DecodeRequest { Model = "tiny-fp32", Latents = latents }), "latents.shape");
        var four = Wire.TensorCodec.FromFloats(new float[4 * 8 * 8], 1, 4, 8, 8);
        await TestRequests.AssertFailsAsync(StatusCode.InvalidArgument,
            async () => await Server.Client.VaeDecoder.DecodeAsync(new DecodeRequest { Model = "tiny-fp32", Latents = four, Seeds = { 1, 2 } }), "seeds");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Several_violations_are_reported_together()
    {
        var ex = await TestRequests.AssertFailsAsync(StatusCode.InvalidArgument,
            () => Server.GenerateAllAsync(new GenerateRequest { Prompt = "x", Width = 7, Steps = 5000 }), "width");
        Assert.Contains("steps", ex.Status.Detail);
        Assert.Contains("multiple of 8 from 8 to 2048", ex.Status.Detail);
    }

    private async Task AssertStillServingAsync()
    {
        var result = (await Server.GenerateAllAsync(new GenerateRequest { Prompt = "ok", Steps = 1, Seed = 3, Preview = new PreviewOptions { Kind = PreviewKind.None } }))[^1].Result;
        Assert.Single(result.Images);
    }
}
