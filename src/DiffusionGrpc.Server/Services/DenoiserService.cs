using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Server.Stages;
using Grpc.Core;

namespace DiffusionGrpc.Server.Services;

/// <summary>The Denoiser gRPC service: streams every update of the local denoiser.</summary>
public sealed class DenoiserService(LocalDenoiserStage stage) : Denoiser.DenoiserBase
{
    /// <inheritdoc />
    public override async Task Denoise(DenoiseRequest request, IServerStreamWriter<DenoiseUpdate> responseStream, ServerCallContext context)
    {
        await foreach (var update in stage.DenoiseAsync(request, context.ToStageContext()).ConfigureAwait(false))
        {
            await responseStream.WriteAsync(update, context.CancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override Task<ModelInfo> DescribeModel(DescribeModelRequest request, ServerCallContext context) =>
        stage.DescribeModelAsync(request, context.ToStageContext());

    /// <inheritdoc />
    public override Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context) =>
        stage.ListModelsAsync(request, context.ToStageContext());
}
