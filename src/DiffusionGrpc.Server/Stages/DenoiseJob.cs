using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Core.Models;
using DiffusionGrpc.Core.Pipeline;
using DiffusionGrpc.Core.Schedulers;
using DiffusionGrpc.Server.Hosting;
using DiffusionGrpc.Server.Validation;
using DiffusionGrpc.Server.Wire;

namespace DiffusionGrpc.Server.Stages;

/// <summary>A validated denoising request with every default resolved, ready to run.</summary>
/// <param name="Model">The model.</param>
/// <param name="Scheduler">A fresh scheduler set for the steps.</param>
/// <param name="Inputs">Conditioning and shape of the loop.</param>
/// <param name="Started">The resolved settings, as announced to the caller.</param>
/// <param name="Preview">The resolved preview options.</param>
public sealed record DenoiseJob(DiffusionModel Model, IScheduler Scheduler, DenoiseInputs Inputs, DenoiseStarted Started, PreviewOptions Preview)
{
    /// <summary>
    /// Validates <paramref name="request"/> against the limits and the model, and resolves its defaults.
    /// Every bad field is reported in one INVALID_ARGUMENT.
    /// </summary>
    public static DenoiseJob Prepare(DenoiseRequest request, ModelLookup models, SchedulerFactory schedulers, LimitsOptions limits)
    {
        var violations = new RequestViolations();
        violations.Side("width", request.Width, limits);
        violations.Side("height", request.Height, limits);
        violations.Steps("steps", request.Steps, limits);
        violations.Finite("guidance_scale", request.GuidanceScale);
        violations.Scheduler("scheduler", request.Scheduler);
        violations.Preview("preview", request.Preview);
        if (request.TextEmbeddings is null)
        {
            violations.Add("text_embeddings", "is required: [B, 77, D] embeddings from TextEncoder.Encode");
        }
        violations.ThrowIfAny();

        var model = models.Get(request.Model);
        var unet = ModelLookup.Use(model, m => m.Unet);
        var text = TensorCodec.ReadFloats(request.TextEmbeddings!, "text_embeddings");
        var shape = request.TextEmbeddings!.Shape;
        if (shape.Count != 3)
        {
            throw RpcErrors.InvalidArgument("text_embeddings.shape", $"must be [B, L, D], got [{string.Join(", ", shape)}]");
        }
        int batch = (int)shape[0], length = (int)shape[1], hidden = (int)shape[2];
        violations.Count("text_embeddings.shape", batch, 1, limits.MaxImages, "images (rows)");
        var expected = unet.EncoderHiddenStates.Dimensions;
        if (expected.Length == 3 && ((expected[1] > 0 && expected[1] != length) || (expected[2] > 0 && expected[2] != hidden)))
        {
            violations.Add("text_embeddings.shape", $"must be [B, {Dim(expected[1])}, {Dim(expected[2])}] for model '{model.Id}', got [{batch}, {length}, {hidden}]");
        }

        float[]? uncond = null;
        int uncondRows = 0;
        if (request.UncondEmbeddings is not null)
        {
            uncond = TensorCodec.ReadFloats(request.UncondEmbeddings, "uncond_embeddings");
            var u = request.UncondEmbeddings.Shape;
            if (u.Count != 3 || (u[0] != 1 && u[0] != batch) || u[1] != length || u[2] != hidden)
            {
                violations.Add("uncond_embeddings.shape", $"must be [1 or {batch}, {length}, {hidden}] like text_embeddings, got [{string.Join(", ", u)}]");
            }
            else
            {
                uncondRows = (int)u[0];
            }
        }

        int width = request.Width == 0 ? model.Defaults.Width : request.Width;
        int height = request.Height == 0 ? model.Defaults.Height : request.Height;
        violations.Area(width, height, limits);
        int steps = request.Steps == 0 ? model.Defaults.Steps : request.Steps;
        violations.ThrowIfAny();

        var overrides = SchedulerMapping.ToOverrides(request.Scheduler);
        IScheduler scheduler;
        ResolvedScheduler resolved;
        try
        {
            resolved = schedulers.Resolve(model.SchedulerConfig, overrides);
            scheduler = schedulers.Create(model.SchedulerConfig, overrides, steps);
        }
        catch (SchedulerOptionException ex)
        {
            throw RpcErrors.InvalidArgument(ex.Field, ex.Message);
        }
        catch (SchedulerUnsupportedException ex)
        {
            throw RpcErrors.FailedPrecondition(
                $"Model '{model.Id}' uses {ex.ClassName}, which this server does not implement; name a scheduler in scheduler.kind (LMS, EULER, EULER_ANCESTRAL, DDIM, PNDM, DPMPP_2M, LCM).");
        }

        bool guided = uncond is not null && request.GuidanceScale > 1f;
        bool embedded = unet.TimestepCondSize > 0;
        var inputs = new DenoiseInputs(batch, text, guided ? new ReadOnlyMemory<float>(uncond) : null, uncondRows, length, hidden, height / 8, width / 8, request.GuidanceScale);
        var started = new DenoiseStarted
        {
            Model = model.Id,
            Width = width,
            Height = height,
            Steps = steps,
            TotalSteps = scheduler.Timesteps.Count,
            GuidanceScale = guided || embedded ? request.GuidanceScale : 1f,
            Scheduler = new SchedulerOptions
            {
                Kind = SchedulerMapping.ToKind(resolved.Type),
                TimestepSpacing = SchedulerMapping.ToSpacing(resolved.Spacing),
                UseKarrasSigmas = resolved.UseKarrasSigmas,
                Eta = resolved.Eta,
            },
            Seed = request.Seed,
            BatchSize = batch,
        };
        var preview = request.Preview?.Clone() ?? new PreviewOptions();
        if (preview.Kind == PreviewKind.Unspecified)
        {
            preview.Kind = PreviewKind.LatentRgb;
        }
        if (preview.Format == ImageFormat.Unspecified)
        {
            preview.Format = ImageFormat.Jpeg;
        }
        return new DenoiseJob(model, scheduler, inputs, started, preview);
    }

    private static string Dim(int d) => d > 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : "*";
}
