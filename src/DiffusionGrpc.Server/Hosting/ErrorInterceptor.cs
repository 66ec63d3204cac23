using Grpc.Core;
using Grpc.Core.Interceptors;

namespace DiffusionGrpc.Server.Hosting;

/// <summary>
/// Turns what escapes a handler into proper statuses: cancellation by the caller is CANCELLED (or
/// DEADLINE_EXCEEDED), anything unexpected is logged and answered INTERNAL without taking the host down.
/// </summary>
public sealed class ErrorInterceptor(ILogger<ErrorInterceptor> logger) : Interceptor
{
    /// <inheritdoc />
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (Translate(ex, context) is { } rpc)
        {
            throw rpc;
        }
    }

    /// <inheritdoc />
    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (Translate(ex, context) is { } rpc)
        {
            throw rpc;
        }
    }

    private RpcException? Translate(Exception ex, ServerCallContext context)
    {
        switch (ex)
        {
            case RpcException:
                return null;
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                bool deadline = context.Deadline <= DateTime.UtcNow;
                logger.LogInformation("{Method} stopped: {Reason}", context.Method, deadline ? "deadline exceeded" : "cancelled by the client");
                return new RpcException(new Status(deadline ? StatusCode.DeadlineExceeded : StatusCode.Cancelled, deadline ? "Deadline exceeded." : "Cancelled."));
            default:
                logger.LogError(ex, "{Method} failed", context.Method);
                return new RpcException(new Status(StatusCode.Internal, $"{ex.GetType().Name}: {ex.Message}"));
        }
    }
}
