using DiffusionGrpc.Client.Pipeline;
using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Server.Hosting;
using DiffusionGrpc.Server.Validation;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace DiffusionGrpc.Server.Services;

/// <summary>The Generation gRPC service: the orchestrator over the three stages (local or remote).</summary>
public sealed class GenerationService(GenerationPipeline pipeline, IOptions<DiffusionOptions> options) : Generation.GenerationBase
{
    /// <inheritdoc />
    public override async Task Generate(GenerateRequest request, IServerStreamWriter<GenerateUpdate> responseStream, ServerCallContext context)
    {
        GenerateRequestValidator.Validate(request, options.Value.Limits);
        await foreach (var update in pipeline.GenerateAsync(request, context.ToStageContext()).ConfigureAwait(false))
        {
            await responseStream.WriteAsync(update, context.CancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context) =>
        pipeline.ListModelsAsync(context.ToStageContext());
}
