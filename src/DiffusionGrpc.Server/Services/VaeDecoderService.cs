using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Server.Stages;
using Grpc.Core;

namespace DiffusionGrpc.Server.Services;

/// <summary>The VaeDecoder gRPC service.</summary>
public sealed class VaeDecoderService(LocalVaeDecoderStage stage) : VaeDecoder.VaeDecoderBase
{
    /// <inheritdoc />
    public override Task<DecodeResponse> Decode(DecodeRequest request, ServerCallContext context) =>
        stage.DecodeAsync(request, context.ToStageContext());
}
