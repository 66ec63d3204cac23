using DiffusionGrpc.Contracts.V1;

namespace DiffusionGrpc.Client.Stages;

/// <summary>How a stage call is made: its deadline and cancellation, propagated from the caller.</summary>
/// <param name="Deadline">The caller's deadline (UTC), or null for none.</param>
/// <param name="CancellationToken">Cancels the call.</param>
public readonly record struct StageCallContext(DateTime? Deadline, CancellationToken CancellationToken)
{
    /// <summary>A context with only a cancellation token.</summary>
    public static StageCallContext From(CancellationToken cancellationToken) => new(null, cancellationToken);
}

/// <summary>The text-encoder stage: in this process or a remote TextEncoder service.</summary>
public interface ITextEncoderStage
{
    /// <summary>Tokenizes and encodes the prompts of <paramref name="request"/>.</summary>
    Task<EncodeResponse> EncodeAsync(EncodeRequest request, StageCallContext context);
}

/// <summary>The denoiser stage: in this process or a remote Denoiser service.</summary>
public interface IDenoiserStage
{
    /// <summary>Runs a denoising job, streaming its updates (queue positions, start, steps, final latents).</summary>
    IAsyncEnumerable<DenoiseUpdate> DenoiseAsync(DenoiseRequest request, StageCallContext context);

    /// <summary>Describes a model (its defaults).</summary>
    Task<ModelInfo> DescribeModelAsync(DescribeModelRequest request, StageCallContext context);

    /// <summary>Lists the models the denoiser serves.</summary>
    Task<ListModelsResponse> ListModelsAsync(ListModelsRequest request, StageCallContext context);
}

/// <summary>The VAE-decoder stage: in this process or a remote VaeDecoder service.</summary>
public interface IVaeDecoderStage
{
    /// <summary>Decodes latents into encoded images.</summary>
    Task<DecodeResponse> DecodeAsync(DecodeRequest request, StageCallContext context);
}
