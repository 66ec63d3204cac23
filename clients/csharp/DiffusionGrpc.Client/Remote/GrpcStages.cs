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
/// The denoiser stage over gRPC. A stream that fails with UNAVAILABLE before its first step is retried
/// (opening it goes through the Polly pipeline; a stream lost while queued is opened again, with the same
/// number of retries and backoff); once a step has streamed, a failure ends the call, since steps already
/// streamed cannot be taken back.
/// </summary>
/// <param name="client">The generated client.</param>
/// <param name="resilience">Retry, circuit breaker and timeouts.</param>
public sealed class GrpcDenoiserStage(Denoiser.DenoiserClient client, StageResilience resilience) : IDenoiserStage
{
    /// <inheritdoc />
    public async IAsyncEnumerable<DenoiseUpdate> DenoiseAsync(DenoiseRequest request, StageCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        bool stepSeen = false;
        for (int reopened = 0; ; reopened++)
        {
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
                var update = first;
                while (true)
                {
                    stepSeen |= update.UpdateCase == DenoiseUpdate.UpdateOneofCase.Step;
                    yield return update;
                    bool more;
                    try
                    {
                        more = await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false);
                    }
                    catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && !stepSeen && reopened < resilience.MaxRetries)
                    {
                        break;
                    }
                    if (!more)
                    {
                        yield break;
                    }
                    update = call.ResponseStream.Current;
                }
            }
            await Task.Delay(resilience.RetryDelay(reopened + 1), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public Task<ModelInfo> DescribeModelAsync(DescribeModelRequest request, StageCallContext context) =>
        resilience.RunUnaryAsync(ct => client.DescribeModelAsync(request, deadline: context.Deadline, cancellationToken: ct).ResponseAsync, context.CancellationToken);

    /// <inheritdoc />
    public Task<ListModelsResponse> ListModelsAsync(ListModelsRequest request, StageCallContext context) =>
        resilience.RunUnaryAsync(ct => client.ListModelsAsync(request, deadline: context.Deadline, cancellationToken: ct).ResponseAsync, context.CancellationToken);
}
