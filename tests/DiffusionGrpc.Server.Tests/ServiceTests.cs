using DiffusionGrpc.Contracts.V1;
using Grpc.Core;
using SixLabors.ImageSharp;

namespace DiffusionGrpc.Server.Tests;

/// <summary>Each service over Kestrel on loopback, with the tiny fp32 fixture model.</summary>
public sealed class ServiceTests(FixtureServer fixture) : IClassFixture<FixtureServer>
{
    private const string Model = "tiny-fp32";
    private LoopbackServer Server => fixture.Server;

    [Fact]
    public async Task ListModels_lists_every_fixture_with_its_defaults()
    {
        var models = await Server.Client.ListModelsAsync();
        var ids = models.Select(m => m.Id).ToArray();
        Assert.Equal(ids.OrderBy(i => i, StringComparer.Ordinal), ids);
        Assert.Contains("tiny-fp32", ids);
        Assert.Contains("tiny-unsupported-scheduler", ids);
        var fp32 = models.Single(m => m.Id == Model);
        Assert.Equal(SchedulerKind.Lms, fp32.DefaultScheduler);
        Assert.Equal(64, fp32.DefaultWidth);
        Assert.Equal(64, fp32.DefaultHeight);
        var unsupported = models.Single(m => m.Id == "tiny-unsupported-scheduler");
        Assert.Equal(SchedulerKind.Unspecified, unsupported.DefaultScheduler);
        Assert.Equal("KDPM2DiscreteScheduler", unsupported.SchedulerClass);
        Assert.True(models.Single(m => m.Id == "tiny-lcm").UsesTimestepCond);
    }

    [Fact]
    public async Task Encode_returns_one_row_per_prompt_with_padded_ids()
    {
        var response = await Server.EncodeAsync(Model, "a red circle", "", new string('x', 3) + string.Join(" ", Enumerable.Repeat("red", 100)));
        Assert.Equal([3L, 77L, 32L], response.Embeddings.Shape);
        Assert.Equal(3 * 77 * 32 * 4, response.Embeddings.Data.Length);
        Assert.Equal(3, response.Tokens.Count);
        foreach (var tokens in response.Tokens)
        {
            Assert.Equal(77, tokens.InputIds.Count);
        }
        Assert.False(response.Tokens[0].Truncated);
        Assert.True(response.Tokens[2].Truncated);
        // Rows differ: the prompt matters.
        var values = response.Embeddings.Floats();
        Assert.NotEqual(values.AsSpan(0, 77 * 32).ToArray(), values.AsSpan(77 * 32, 77 * 32).ToArray());
    }

    [Fact]
    public async Task Denoise_streams_start_one_step_per_timestep_and_final_latents()
    {
        var request = await Server.DenoiseRequestAsync(Model, batch: 2, steps: 5);
        var updates = await Server.DenoiseAllAsync(request);
        var started = Assert.Single(updates, u => u.UpdateCase == DenoiseUpdate.UpdateOneofCase.Started).Started;
        Assert.Equal(5, started.Steps);
        Assert.Equal(64, started.Width);
        Assert.Equal(SchedulerKind.Lms, started.Scheduler.Kind);
        var steps = updates.Where(u => u.Step is not null).Select(u => u.Step).ToList();
        Assert.Equal(Enumerable.Range(1, 5), steps.Select(s => s.Step));
        Assert.All(steps, s => Assert.Equal(2, s.Previews.Count));
        Assert.All(steps, s => Assert.Equal("image/jpeg", s.Previews[0].MimeType));
        Assert.Equal(DenoiseUpdate.UpdateOneofCase.Latents, updates[^1].UpdateCase);
        Assert.Equal([2L, 4L, 8L, 8L], updates[^1].Latents.Shape);
        Assert.All(updates[^1].Latents.Floats(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public async Task Denoise_is_deterministic_per_seed_and_image_i_uses_seed_plus_i()
    {
        var request = await Server.DenoiseRequestAsync(Model, batch: 2, steps: 3);
        var first = (await Server.DenoiseAllAsync(request))[^1].Latents.Floats();
        var again = (await Server.DenoiseAllAsync(request))[^1].Latents.Floats();
        Assert.Equal(first, again);

        var single = await Server.DenoiseRequestAsync(Model, batch: 1, steps: 3);
        single.Seed = 43;
        var second = (await Server.DenoiseAllAsync(single))[^1].Latents.Floats();
        Assert.Equal(first.AsSpan(first.Length / 2).ToArray(), second);
        Assert.NotEqual(first.AsSpan(0, first.Length / 2).ToArray(), second);
    }

    [Fact]
    public async Task Guidance_at_most_one_runs_without_the_unconditional_half()
    {
        var guided = await Server.DenoiseRequestAsync(Model, steps: 3, guidance: 7.5f);
        var unguided = guided.Clone();
        unguided.GuidanceScale = 1f;
        var a = (await Server.DenoiseAllAsync(guided))[^1].Latents.Floats();
        var b = (await Server.DenoiseAllAsync(unguided))[^1].Latents.Floats();
        Assert.NotEqual(a, b);
    }

    [Fact]
    public async Task Previews_every_n_steps_and_always_the_last_and_latents_kind()
    {
        var request = await Server.DenoiseRequestAsync(Model, steps: 7);
        request.Preview = new PreviewOptions { EveryNSteps = 3, Kind = PreviewKind.LatentRgb, Format = ImageFormat.Png };
        var steps = (await Server.DenoiseAllAsync(request)).Where(u => u.Step is not null).Select(u => u.Step).ToList();
        Assert.Equal(7, steps.Count);
        Assert.Equal([3, 6, 7], steps.Where(s => s.Previews.Count > 0).Select(s => s.Step));
        using (var preview = steps[2].Previews[0].DecodeImage())
        {
            Assert.Equal(64, preview.Width);
            Assert.Equal(64, preview.Height);
        }

        request.Preview = new PreviewOptions { Kind = PreviewKind.Latents };
        var latents = (await Server.DenoiseAllAsync(request)).Where(u => u.Step is not null).Select(u => u.Step.Latents).ToList();
        Assert.All(latents, l => Assert.Equal([1L, 4L, 8L, 8L], l.Shape));

        request.Preview = new PreviewOptions { Kind = PreviewKind.Vae, Format = ImageFormat.Webp };
        var vae = (await Server.DenoiseAllAsync(request)).Where(u => u.Step is not null).ToList();
        Assert.All(vae, u => Assert.Equal("image/webp", u.Step.Previews[0].MimeType));

        request.Preview = new PreviewOptions { Kind = PreviewKind.None };
        var none = (await Server.DenoiseAllAsync(request)).Where(u => u.Step is not null).ToList();
        Assert.All(none, u => Assert.Empty(u.Step.Previews));
    }

    [Fact]
    public async Task Decode_divides_by_the_scaling_factor_and_encodes_each_format()
    {
        var latents = new float[2 * 4 * 8 * 8];
        for (int i = 0; i < latents.Length; i++)
        {
            latents[i] = MathF.Sin(i * 0.37f) * 0.5f;
        }
        var tensor = Wire.TensorCodec.FromFloats(latents, 2, 4, 8, 8);
        foreach (var (format, mime) in new[] { (ImageFormat.Png, "image/png"), (ImageFormat.Jpeg, "image/jpeg"), (ImageFormat.Webp, "image/webp"), (ImageFormat.Unspecified, "image/png") })
        {
            var response = await Server.Client.VaeDecoder.DecodeAsync(new DecodeRequest { Model = Model, Latents = tensor, Format = format, Seeds = { 7, 8 } });
            Assert.Equal(2, response.Images.Count);
            Assert.Equal(mime, response.Images[0].MimeType);
            Assert.Equal([7UL, 8UL], response.Images.Select(i => i.Seed));
            using var image = response.Images[1].DecodeImage();
            Assert.Equal(64, image.Width);
            Assert.Equal(64, image.Height);
        }
    }

    [Fact]
    public async Task Decode_accepts_float16_latents_like_float32()
    {
        var values = Enumerable.Range(0, 4 * 8 * 8).Select(i => (float)(Half)(MathF.Cos(i) * 0.3f)).ToArray();
        var fp32 = Wire.TensorCodec.FromFloats(values, 1, 4, 8, 8);
        var halves = values.Select(v => (Half)v).ToArray();
        var fp16 = new Tensor { Dtype = DataType.Float16, Shape = { 1, 4, 8, 8 }, Data = Google.Protobuf.ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(halves.AsSpan())) };
        var a = await Server.Client.VaeDecoder.DecodeAsync(new DecodeRequest { Model = Model, Latents = fp32 });
        var b = await Server.Client.VaeDecoder.DecodeAsync(new DecodeRequest { Model = Model, Latents = fp16 });
        Assert.Equal(a.Images[0].Data, b.Images[0].Data);
    }

    [Fact]
    public async Task Generate_streams_steps_then_a_png_with_infotext_and_resolved_request()
    {
        var request = new GenerateRequest { Prompt = "a red circle", NegativePrompt = "blue", Steps = 4, Seed = 100, NumImages = 2 };
        var updates = await Server.GenerateAllAsync(request);
        var steps = updates.Where(u => u.Step is not null).Select(u => u.Step).ToList();
        Assert.Equal([1, 2, 3, 4], steps.Select(s => s.Step));
        Assert.True(steps.Zip(steps.Skip(1)).All(p => p.First.ElapsedSeconds <= p.Second.ElapsedSeconds));
        var result = Assert.Single(updates, u => u.Result is not null).Result;
        Assert.Same(result, updates[^1].Result);
        Assert.Equal([100UL, 101UL], result.Images.Select(i => i.Seed));

        var resolved = result.Resolved;
        Assert.Equal(Model, resolved.Model);
        Assert.Equal((64, 64, 4), (resolved.Width, resolved.Height, resolved.Steps));
        Assert.Equal(7.5f, resolved.GuidanceScale);
        Assert.Equal(SchedulerKind.Lms, resolved.Scheduler.Kind);
        Assert.Equal(TimestepSpacing.Linspace, resolved.Scheduler.TimestepSpacing);
        Assert.Equal(100UL, resolved.Seed);
        Assert.Equal(2, resolved.NumImages);
        Assert.Equal(ImageFormat.Png, resolved.OutputFormat);
        Assert.Equal(PreviewKind.LatentRgb, resolved.Preview.Kind);

        var png = result.Images[1];
        Assert.Equal("image/png", png.MimeType);
        using var image = png.DecodeImage();
        Assert.Equal((64, 64), (image.Width, image.Height));
        var text = image.Metadata.GetPngMetadata().TextData.Single(t => t.Keyword == "parameters").Value;
        Assert.Equal("a red circle\nNegative prompt: blue\nSteps: 4, Sampler: LMS, CFG scale: 7.5, Seed: 101, Size: 64x64, Model: tiny-fp32", text);
    }

    [Fact]
    public async Task Generate_equals_the_three_stages_chained_by_the_sdk()
    {
        var request = new GenerateRequest { Prompt = "a red circle", Steps = 3, Seed = 5 };
        var direct = (await Server.GenerateAllAsync(request))[^1].Result;
        var pipeline = Client.DiffusionClient.CreateStagedPipeline(Server.Channel, Server.Channel, Server.Channel);
        GenerationResult? chained = null;
        await foreach (var update in pipeline.GenerateAsync(request, default))
        {
            chained = update.Result ?? chained;
        }
        Assert.Equal(direct.Images[0].Data, chained!.Images[0].Data);
    }

    [Fact]
    public async Task Generate_without_seed_reports_the_random_seed_it_used()
    {
        var result = (await Server.GenerateAllAsync(new GenerateRequest { Prompt = "x", Steps = 1, Preview = new PreviewOptions { Kind = PreviewKind.None } }))[^1].Result;
        Assert.NotNull(result.Resolved.Seed);
        Assert.Equal(result.Resolved.Seed!.Value, result.Images[0].Seed);
    }

    [Fact]
    public async Task Jpeg_and_webp_outputs()
    {
        foreach (var (format, mime) in new[] { (ImageFormat.Jpeg, "image/jpeg"), (ImageFormat.Webp, "image/webp") })
        {
            var result = (await Server.GenerateAllAsync(new GenerateRequest { Prompt = "x", Steps = 1, Seed = 1, OutputFormat = format }))[^1].Result;
            Assert.Equal(mime, result.Images[0].MimeType);
            using var image = result.Images[0].DecodeImage();
            Assert.Equal(64, image.Width);
        }
    }

    [Fact]
    public async Task Unsupported_scheduler_class_is_failed_precondition_unless_a_scheduler_is_named()
    {
        var ex = await TestRequests.AssertFailsAsync(StatusCode.FailedPrecondition,
            () => Server.GenerateAllAsync(new GenerateRequest { Model = "tiny-unsupported-scheduler", Prompt = "x", Steps = 2 }));
        Assert.Contains("KDPM2DiscreteScheduler", ex.Status.Detail);
        var ok = await Server.GenerateAllAsync(new GenerateRequest { Model = "tiny-unsupported-scheduler", Prompt = "x", Steps = 2, Scheduler = new SchedulerOptions { Kind = SchedulerKind.Euler } });
        Assert.NotNull(ok[^1].Result);
    }
}
