using DiffusionGrpc.Core.Noise;

namespace DiffusionGrpc.Core.Schedulers;

/// <summary>
/// One denoising run of a noise scheduler, set for a number of inference steps. The shape every
/// scheduler of diffusers shares: timesteps, <c>init_noise_sigma</c>, <c>scale_model_input</c> and
/// <c>step</c>. An instance is stateful (multistep history) and serves one request.
/// </summary>
public interface IScheduler
{
    /// <summary>The timesteps of the loop, one per UNet evaluation (fractional for sigma schedulers).</summary>
    IReadOnlyList<double> Timesteps { get; }

    /// <summary>Standard deviation of the initial noise: the pipeline multiplies <c>randn</c> by it.</summary>
    double InitNoiseSigma { get; }

    /// <summary>
    /// The factor <c>scale_model_input</c> multiplies the latents by before step
    /// <paramref name="stepIndex"/>'s UNet evaluation (1 for schedulers that do not scale).
    /// </summary>
    double ModelInputScale(int stepIndex);

    /// <summary>
    /// Advances <paramref name="sample"/> (the batch of latents x_t, updated in place to x_{t-1}) with the
    /// model output of step <paramref name="stepIndex"/>, and writes the scheduler's prediction of the
    /// denoised sample x0 into <paramref name="predictedOriginal"/> (for previews). Noise, where the
    /// scheduler draws it, comes from <paramref name="noise"/>.
    /// </summary>
    void Step(int stepIndex, ReadOnlySpan<float> modelOutput, Span<float> sample, Span<float> predictedOriginal, INoiseSource noise);
}
