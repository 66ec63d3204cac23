using System.Runtime.CompilerServices;
using DiffusionGrpc.Client.Stages;
using DiffusionGrpc.Contracts.V1;
using Grpc.Core;

namespace DiffusionGrpc.Client.Remote;

/// <summary>The text-encoder stage over gRPC.</summary>
/// <param name="client">The generated client.</param>
/// <param name="resilience">Retry, circuit breaker and timeouts.</param>
public sealed class GrpcTextEncoderStage(TextEncoder.TextEncoderClient client, StageResilience resilience) : ITextEncoderStage
{
    /// <inheritdoc />
    public Task<EncodeResponse> EncodeAsync(EncodeRequest request, StageCallContext context) =>
        resilience.RunUnaryAsync(ct => client.EncodeAsync(request, deadline: context.Deadline, cancellationToken: ct).ResponseAsync, context.CancellationToken);
}

/// <summary>The VAE-decoder stage over gRPC.</summary>
/// <param name="client">The generated client.</param>
/// <param name="resilience">Retry, circuit breaker and timeouts.</param>
public sealed class GrpcVaeDecoderStage(VaeDecoder.VaeDecoderClient client, StageResilience resilience) : IVaeDecoderStage
{
    /// <inheritdoc />
    public Task<DecodeResponse> DecodeAsync(DecodeRequest request, StageCallContext context) =>
        resilience.RunUnaryAsync(ct => client.DecodeAsync(request, deadline: context.Deadline, cancellationToken: ct).ResponseAsync, context.CancellationToken);
}

/// <summary>
/// The denoiser stage over gRPC. A stream is retried on UNAVAILABLE until its first message arrives;
/// after that, a failure ends the call (steps already streamed cannot be replayed).
/// </summary>
/// <param name="client">The generated client.</param>
/// <param name="resilience">Retry, circuit breaker and timeouts.</param>
public sealed class GrpcDenoiserStage(Denoiser.DenoiserClient client, StageResilience resilience) : IDenoiserStage
{
    /// <inheritdoc />
    public async IAsyncEnumerable<DenoiseUpdate> DenoiseAsync(DenoiseRequest request, StageCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var (call, first) = await resilience.StartStreamAsync(async ct =>
        {
            var started = client.Denoise(request, deadline: context.Deadline, cancellationToken: cancellationToken);
            try
            {
                if (!await started.ResponseStream.MoveNext(ct).ConfigureAwait(false))
                {
                    throw new RpcException(new Status(StatusCode.Internal, "The denoiser ended the stream without a message."));
                }
                return (started, started.ResponseStream.Current);
            }
            catch
            {
                started.Dispose();
                throw;
            }
        }, cancellationToken).ConfigureAwait(false);

        using (call)
        {
            yield return first;
            while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                yield return call.ResponseStream.Current;
            }
        }
    }

    /// <inheritdoc />
    public Task<ModelInfo> DescribeModelAsync(DescribeModelRequest request, StageCallContext context) =>
        resilience.RunUnaryAsync(ct => client.DescribeModelAsync(request, deadline: context.Deadline, cancellationToken: ct).ResponseAsync, context.CancellationToken);

    /// <inheritdoc />
    public Task<ListModelsResponse> ListModelsAsync(ListModelsRequest request, StageCallContext context) =>
        resilience.RunUnaryAsync(ct => client.ListModelsAsync(request, deadline: context.Deadline, cancellationToken: ct).ResponseAsync, context.CancellationToken);
}
