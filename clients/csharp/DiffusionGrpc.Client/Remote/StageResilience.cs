using Grpc.Core;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace DiffusionGrpc.Client.Remote;

/// <summary>Resilience settings of calls to a remote stage.</summary>
public sealed class StageResilienceOptions
{
    /// <summary>Retries of a call that failed with UNAVAILABLE before it produced anything.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>First retry delay (exponential backoff with jitter after it).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Timeout of one attempt of a unary call (encode, decode, describe).</summary>
    public TimeSpan UnaryTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Failure ratio over <see cref="BreakSamplingDuration"/> that opens the circuit.</summary>
    public double BreakFailureRatio { get; set; } = 0.5;

    /// <summary>Calls needed in the sampling window before the circuit can open.</summary>
    public int BreakMinimumThroughput { get; set; } = 8;

    /// <summary>Sampling window of the circuit breaker.</summary>
    public TimeSpan BreakSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit rejects calls.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Polly pipelines for stage calls: retry on UNAVAILABLE (the server is down or restarting), a circuit
/// breaker over transport failures, and a per-attempt timeout for unary calls. Failures surface as
/// <see cref="RpcException"/>s, so callers see gRPC statuses whichever strategy acted.
/// </summary>
public sealed class StageResilience
{
    private readonly ResiliencePipeline _unary;
    private readonly ResiliencePipeline _streamStart;
    private readonly StageResilienceOptions _options;

    /// <summary>Builds the pipelines of one remote stage (each stage has its own circuit).</summary>
    public StageResilience(StageResilienceOptions options)
    {
        _options = options;
        var transient = new PredicateBuilder().Handle<RpcException>(e => e.StatusCode == StatusCode.Unavailable);
        var retry = new RetryStrategyOptions
        {
            ShouldHandle = transient,
            MaxRetryAttempts = Math.Max(0, options.MaxRetries),
            Delay = options.RetryDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        };
        var breaker = new CircuitBreakerStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<RpcException>(e => e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal)
                .Handle<TimeoutRejectedException>(),
            FailureRatio = options.BreakFailureRatio,
            MinimumThroughput = Math.Max(2, options.BreakMinimumThroughput),
            SamplingDuration = options.BreakSamplingDuration,
            BreakDuration = options.BreakDuration,
        };
        var circuit = new ResiliencePipelineBuilder().AddCircuitBreaker(breaker).Build();
        // One breaker shared by unary and streaming calls of the stage: both fail when its servers do.
        _unary = new ResiliencePipelineBuilder()
            .AddRetry(retry)
            .AddPipeline(circuit)
            .AddTimeout(options.UnaryTimeout)
            .Build();
        _streamStart = new ResiliencePipelineBuilder()
            .AddRetry(retry)
            .AddPipeline(circuit)
            .Build();
    }

    /// <summary>Retries of a call that failed with UNAVAILABLE before it produced anything.</summary>
    public int MaxRetries => Math.Max(0, _options.MaxRetries);

    /// <summary>The delay before retry <paramref name="attempt"/> (1-based): exponential from <see cref="StageResilienceOptions.RetryDelay"/>, with jitter.</summary>
    public TimeSpan RetryDelay(int attempt) =>
        TimeSpan.FromMilliseconds(_options.RetryDelay.TotalMilliseconds * Math.Pow(2, Math.Max(0, attempt - 1)) * (0.75 + Random.Shared.NextDouble() * 0.5));

    /// <summary>Runs a unary call.</summary>
    public async Task<T> RunUnaryAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await _unary.ExecuteAsync(async ct => await call(ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Translate(ex, cancellationToken) is { } rpc)
        {
            throw rpc;
        }
    }

    /// <summary>Starts a streaming call: opens it and reads its first message, retrying while nothing has arrived.</summary>
    public async Task<T> StartStreamAsync<T>(Func<CancellationToken, Task<T>> start, CancellationToken cancellationToken)
    {
        try
        {
            return await _streamStart.ExecuteAsync(async ct => await start(ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Translate(ex, cancellationToken) is { } rpc)
        {
            throw rpc;
        }
    }

    private static RpcException? Translate(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        TimeoutRejectedException t => new RpcException(new Status(StatusCode.DeadlineExceeded, $"Stage call timed out after {t.Timeout.TotalSeconds:0.#} s.")),
        BrokenCircuitException b => new RpcException(new Status(StatusCode.Unavailable, $"Stage unavailable (circuit open): {b.Message}")),
        OperationCanceledException when cancellationToken.IsCancellationRequested => new RpcException(new Status(StatusCode.Cancelled, "Cancelled by the caller.")),
        _ => null,
    };
}
