using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Server.Stages;
using Grpc.Core;

namespace DiffusionGrpc.Server.Services;

/// <summary>The TextEncoder gRPC service.</summary>
public sealed class TextEncoderService(LocalTextEncoderStage stage) : TextEncoder.TextEncoderBase
{
    /// <inheritdoc />
    public override Task<EncodeResponse> Encode(EncodeRequest request, ServerCallContext context) =>
        stage.EncodeAsync(request, context.ToStageContext());
}
