using System.Diagnostics;
using System.Runtime.CompilerServices;
using DiffusionGrpc.Client.Stages;
using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Core.Imaging;
using DiffusionGrpc.Core.Noise;
using DiffusionGrpc.Core.Pipeline;
using DiffusionGrpc.Core.Schedulers;
using DiffusionGrpc.Server.Hosting;
using DiffusionGrpc.Server.Queueing;
using DiffusionGrpc.Server.Wire;
using Microsoft.Extensions.Options;

namespace DiffusionGrpc.Server.Stages;

/// <summary>
/// The denoiser in this process: validates and resolves the request, waits for a slot in the queue
/// (streaming its position), then runs the loop and streams a StepProgress per UNet evaluation and the
/// final latents.
/// </summary>
public sealed class LocalDenoiserStage(
    ModelLookup models,
    SchedulerFactory schedulers,
    DenoiserQueue queue,
    ImageEncoder encoder,
    IOptions<DiffusionOptions> options,
    ILogger<LocalDenoiserStage> logger) : IDenoiserStage
{
    /// <inheritdoc />
    public async IAsyncEnumerable<DenoiseUpdate> DenoiseAsync(DenoiseRequest request, StageCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var clock = Stopwatch.StartNew();
        var job = DenoiseJob.Prepare(request, models, schedulers, options.Value.Limits);

        using var ticket = queue.Enter();
        await foreach (var position in ticket.WaitAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new DenoiseUpdate { Queued = new Queued { Position = position } };
        }
        yield return new DenoiseUpdate { Started = job.Started };

        var noise = new GeneratorNoiseSource(request.Seed, job.Inputs.BatchSize);
        using var loop = new DenoiseLoop(job.Model.Unet, job.Scheduler, noise, job.Inputs);
        var progress = new StepProgressBuilder(job, encoder);
        logger.LogInformation("Denoising {Batch} image(s) on {Model}: {Steps} steps of {Scheduler}, {Width}x{Height}, guidance {Guidance}",
            job.Inputs.BatchSize, job.Model.Id, job.Started.TotalSteps, job.Started.Scheduler.Kind, job.Started.Width, job.Started.Height, job.Started.GuidanceScale);
        await foreach (var step in loop.RunAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new DenoiseUpdate { Step = progress.Build(step, loop, clock.Elapsed.TotalSeconds) };
        }
        yield return new DenoiseUpdate
        {
            Latents = TensorCodec.FromFloats(loop.Latents.Span, loop.BatchSize, loop.Channels, loop.LatentHeight, loop.LatentWidth),
        };
    }

    /// <inheritdoc />
    public Task<ModelInfo> DescribeModelAsync(DescribeModelRequest request, StageCallContext context) =>
        Task.FromResult(ModelLookup.Describe(models.Get(request.Model)));

    /// <inheritdoc />
    public Task<ListModelsResponse> ListModelsAsync(ListModelsRequest request, StageCallContext context)
    {
        var response = new ListModelsResponse { DefaultModel = models.Repository.DefaultId ?? "" };
        foreach (var id in models.Repository.ListIds())
        {
            try
            {
                response.Models.Add(ModelLookup.Describe(models.Get(id)));
            }
            catch (Grpc.Core.RpcException ex)
            {
                // A broken folder is logged, not listed: the others are still served.
                logger.LogWarning("Model {Model} is not listed: {Reason}", id, ex.Status.Detail);
            }
        }
        return Task.FromResult(response);
    }
}
