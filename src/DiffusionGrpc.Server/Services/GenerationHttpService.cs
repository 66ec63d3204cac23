using DiffusionGrpc.Client.Pipeline;
using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Server.Hosting;
using DiffusionGrpc.Server.Http;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace DiffusionGrpc.Server.Services;

/// <summary>
/// The JSON face of Generation (gRPC JSON transcoding, routes in protos/diffusion/v1/http/generation_http.proto):
/// <c>POST /v1/generate</c> streams newline-delimited JSON updates, <c>GET /v1/models</c> lists the models.
/// Same validation, queue, cancellation and errors as <see cref="GenerationService"/>, which it delegates to.
/// </summary>
public sealed class GenerationHttpService(GenerationPipeline pipeline, IOptions<DiffusionOptions> options) : GenerationHttp.GenerationHttpBase
{
    private readonly GenerationService _generation = new(pipeline, options);

    /// <inheritdoc />
    public override Task Generate(GenerateRequest request, IServerStreamWriter<GenerateUpdate> responseStream, ServerCallContext context) =>
        _generation.Generate(request, responseStream, context);

    /// <inheritdoc />
    public override Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context) =>
        _generation.ListModels(request, context);
}
