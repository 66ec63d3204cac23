using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Core.Imaging;
using DiffusionGrpc.Core.Pipeline;
using DiffusionGrpc.Core.Previews;
using DiffusionGrpc.Server.Wire;
using Google.Protobuf;

namespace DiffusionGrpc.Server.Stages;

/// <summary>Turns finished denoising steps into <see cref="StepProgress"/> messages, with previews on every n-th step and the last.</summary>
public sealed class StepProgressBuilder
{
    private readonly DenoiseJob _job;
    private readonly PreviewRenderer _renderer;
    private readonly int _every;

    /// <summary>Creates a builder for one job.</summary>
    public StepProgressBuilder(DenoiseJob job, ImageEncoder encoder)
    {
        _job = job;
        _renderer = new PreviewRenderer(job.Model, encoder);
        _every = Math.Max(1, job.Preview.EveryNSteps);
    }

    /// <summary>The progress message of <paramref name="step"/>; the loop's buffers hold that step's state.</summary>
    public StepProgress Build(DenoiseStep step, DenoiseLoop loop, double elapsedSeconds)
    {
        var progress = new StepProgress
        {
            Step = step.Step,
            TotalSteps = step.TotalSteps,
            Timestep = step.Timestep,
            ElapsedSeconds = elapsedSeconds,
        };
        bool due = step.Step % _every == 0 || step.Step == step.TotalSteps;
        if (!due)
        {
            return progress;
        }
        switch (_job.Preview.Kind)
        {
            case PreviewKind.LatentRgb:
            case PreviewKind.Vae:
                AddImages(progress, loop);
                break;
            case PreviewKind.Latents:
                progress.Latents = TensorCodec.FromFloats(loop.Latents.Span, loop.BatchSize, loop.Channels, loop.LatentHeight, loop.LatentWidth);
                break;
        }
        return progress;
    }

    private void AddImages(StepProgress progress, DenoiseLoop loop)
    {
        var format = ImageFormats.ToCore(_job.Preview.Format);
        var x0 = loop.PredictedOriginal.Span;
        for (int i = 0; i < loop.BatchSize; i++)
        {
            var preview = _job.Preview.Kind == PreviewKind.Vae
                ? _renderer.RenderVae(x0, i, loop.Channels, loop.LatentHeight, loop.LatentWidth, format)
                : _renderer.RenderLatentRgb(x0, i, loop.Channels, loop.LatentHeight, loop.LatentWidth, _job.Started.Width, _job.Started.Height, format);
            progress.Previews.Add(new Image
            {
                Data = UnsafeByteOperations.UnsafeWrap(preview.Data),
                MimeType = ImageEncoder.MimeType(format),
                Width = preview.Width,
                Height = preview.Height,
                Seed = _job.Started.Seed + (ulong)i,
            });
        }
    }
}

/// <summary>Proto image formats to the Core's.</summary>
public static class ImageFormats
{
    /// <summary>The Core format of a proto format (unspecified = PNG).</summary>
    public static EncodedImageFormat ToCore(ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => EncodedImageFormat.Jpeg,
        ImageFormat.Webp => EncodedImageFormat.WebP,
        _ => EncodedImageFormat.Png,
    };
}
