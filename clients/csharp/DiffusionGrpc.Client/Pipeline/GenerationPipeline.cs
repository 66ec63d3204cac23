using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using DiffusionGrpc.Client.Stages;
using DiffusionGrpc.Contracts.V1;
using Google.Protobuf;
using Grpc.Core;

namespace DiffusionGrpc.Client.Pipeline;

/// <summary>
/// Text to image across the three stages, exactly as diffusers' StableDiffusionPipeline: encode the prompt
/// and the negative prompt in one text-encoder run, denoise (streaming every step), decode. The same code
/// runs inside the Generation service (stages in-process or remote) and in clients that chain the three
/// services themselves.
/// </summary>
public sealed class GenerationPipeline
{
    /// <summary>How long a model's description is reused before the denoiser is asked again.</summary>
    public static readonly TimeSpan ModelInfoLifetime = TimeSpan.FromSeconds(30);

    private readonly ITextEncoderStage _textEncoder;
    private readonly IDenoiserStage _denoiser;
    private readonly IVaeDecoderStage _vaeDecoder;
    // Model descriptions by requested id ("" = default). Asking the denoiser once per Generate would
    // pair every Denoise with a DescribeModel call, and round robin over two denoisers would then send
    // all the describing to one and all the denoising to the other.
    private readonly ConcurrentDictionary<string, (ModelInfo Info, long ExpiresAt)> _modelInfo = new(StringComparer.Ordinal);

    /// <summary>Creates a pipeline over the three stages.</summary>
    public GenerationPipeline(ITextEncoderStage textEncoder, IDenoiserStage denoiser, IVaeDecoderStage vaeDecoder)
    {
        _textEncoder = textEncoder;
        _denoiser = denoiser;
        _vaeDecoder = vaeDecoder;
    }

    /// <summary>
    /// Generates images for <paramref name="request"/>: Queued updates while the denoiser is busy, a
    /// StepProgress per step, then one GenerationResult.
    /// </summary>
    public async IAsyncEnumerable<GenerateUpdate> GenerateAsync(GenerateRequest request, StageCallContext context)
    {
        var clock = Stopwatch.StartNew();
        var model = await DescribeModelAsync(request.Model, context).ConfigureAwait(false);
        float guidance = request.GuidanceScale ?? model.DefaultGuidanceScale;
        // LCM UNets take the guidance scale as an embedding: one pass of B, no unconditional half.
        bool classifierFree = guidance > 1f && !model.UsesTimestepCond;
        ulong seed = request.Seed ?? RandomSeed();
        int images = request.NumImages == 0 ? 1 : request.NumImages;

        var encodeRequest = new EncodeRequest { Model = model.Id, Prompts = { request.Prompt } };
        if (classifierFree)
        {
            encodeRequest.Prompts.Add(request.NegativePrompt);
        }
        var encoded = await _textEncoder.EncodeAsync(encodeRequest, context).ConfigureAwait(false);

        var denoiseRequest = new DenoiseRequest
        {
            Model = model.Id,
            TextEmbeddings = TensorRows.Repeat(encoded.Embeddings, 0, images),
            UncondEmbeddings = classifierFree ? TensorRows.Repeat(encoded.Embeddings, 1, 1) : null,
            Width = request.Width,
            Height = request.Height,
            Steps = request.Steps,
            GuidanceScale = guidance,
            Scheduler = request.Scheduler,
            Seed = seed,
            Preview = request.Preview,
        };

        DenoiseStarted? started = null;
        Tensor? latents = null;
        await foreach (var update in _denoiser.DenoiseAsync(denoiseRequest, context).ConfigureAwait(false))
        {
            switch (update.UpdateCase)
            {
                case DenoiseUpdate.UpdateOneofCase.Queued:
                    yield return new GenerateUpdate { Queued = update.Queued };
                    break;
                case DenoiseUpdate.UpdateOneofCase.Started:
                    started = update.Started;
                    break;
                case DenoiseUpdate.UpdateOneofCase.Step:
                    update.Step.ElapsedSeconds = clock.Elapsed.TotalSeconds;
                    yield return new GenerateUpdate { Step = update.Step };
                    break;
                case DenoiseUpdate.UpdateOneofCase.Latents:
                    latents = update.Latents;
                    break;
            }
        }
        if (started is null || latents is null)
        {
            throw new RpcException(new Status(StatusCode.Internal, "The denoiser stream ended without its start or final latents."));
        }

        var resolved = Resolve(request, started, guidance, images);
        var format = request.OutputFormat == ImageFormat.Unspecified ? ImageFormat.Png : request.OutputFormat;
        var decodeRequest = new DecodeRequest { Model = model.Id, Latents = latents, Format = format };
        for (int i = 0; i < images; i++)
        {
            decodeRequest.Seeds.Add(seed + (ulong)i);
            if (format == ImageFormat.Png)
            {
                decodeRequest.PngParameters.Add(Infotext.Format(resolved, seed + (ulong)i));
            }
        }
        var decoded = await _vaeDecoder.DecodeAsync(decodeRequest, context).ConfigureAwait(false);
        yield return new GenerateUpdate
        {
            Result = new GenerationResult { Images = { decoded.Images }, Resolved = resolved, ElapsedSeconds = clock.Elapsed.TotalSeconds },
        };
    }

    /// <summary>The denoiser's description of <paramref name="model"/>, reused for <see cref="ModelInfoLifetime"/>.</summary>
    private async Task<ModelInfo> DescribeModelAsync(string model, StageCallContext context)
    {
        long now = Environment.TickCount64;
        if (_modelInfo.TryGetValue(model, out var cached) && cached.ExpiresAt > now)
        {
            return cached.Info;
        }
        var info = await _denoiser.DescribeModelAsync(new DescribeModelRequest { Model = model }, context).ConfigureAwait(false);
        _modelInfo[model] = (info, now + (long)ModelInfoLifetime.TotalMilliseconds);
        return info;
    }

    /// <summary>The models the denoiser serves.</summary>
    public Task<ListModelsResponse> ListModelsAsync(StageCallContext context) =>
        _denoiser.ListModelsAsync(new ListModelsRequest(), context);

    private static GenerateRequest Resolve(GenerateRequest request, DenoiseStarted started, float guidance, int images)
    {
        var resolved = request.Clone();
        resolved.Model = started.Model;
        resolved.Width = started.Width;
        resolved.Height = started.Height;
        resolved.Steps = started.Steps;
        resolved.GuidanceScale = guidance;
        resolved.Scheduler = started.Scheduler;
        resolved.Seed = started.Seed;
        resolved.NumImages = images;
        resolved.Preview = request.Preview?.Clone() ?? new PreviewOptions();
        if (resolved.Preview.Kind == PreviewKind.Unspecified)
        {
            resolved.Preview.Kind = PreviewKind.LatentRgb;
        }
        if (resolved.Preview.Format == ImageFormat.Unspecified)
        {
            resolved.Preview.Format = ImageFormat.Jpeg;
        }
        if (resolved.Preview.EveryNSteps == 0)
        {
            resolved.Preview.EveryNSteps = 1;
        }
        if (resolved.OutputFormat == ImageFormat.Unspecified)
        {
            resolved.OutputFormat = ImageFormat.Png;
        }
        return resolved;
    }

    // Like AUTOMATIC1111: a random seed in [0, 2^32), so it is easy to read back and type.
    private static ulong RandomSeed() => (ulong)(uint)RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue);
}

/// <summary>Row operations on wire tensors.</summary>
public static class TensorRows
{
    /// <summary>Row <paramref name="row"/> of a tensor <c>[N, ...]</c>, repeated <paramref name="count"/> times as <c>[count, ...]</c>.</summary>
    public static Tensor Repeat(Tensor tensor, int row, int count)
    {
        if (tensor.Shape.Count == 0 || row >= tensor.Shape[0])
        {
            throw new RpcException(new Status(StatusCode.Internal, $"Tensor of shape [{string.Join(", ", tensor.Shape)}] has no row {row}."));
        }
        int rowBytes = checked((int)(tensor.Data.Length / tensor.Shape[0]));
        var source = tensor.Data.Span.Slice(row * rowBytes, rowBytes);
        var data = new byte[rowBytes * count];
        for (int i = 0; i < count; i++)
        {
            source.CopyTo(data.AsSpan(i * rowBytes));
        }
        var result = new Tensor { Dtype = tensor.Dtype, Data = UnsafeByteOperations.UnsafeWrap(data) };
        result.Shape.Add(count);
        for (int d = 1; d < tensor.Shape.Count; d++)
        {
            result.Shape.Add(tensor.Shape[d]);
        }
        return result;
    }
}
