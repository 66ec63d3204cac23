using DiffusionGrpc.Core.Noise;

namespace DiffusionGrpc.Core.Schedulers;

/// <summary>
/// diffusers' <c>LCMScheduler</c> (latent consistency models): the timesteps are taken from the
/// <c>original_inference_steps</c>-long distillation schedule (<c>k·i − 1</c> with <c>k = T // original</c>), whatever
/// <c>timestep_spacing</c> says (diffusers ignores it for this class). Each step predicts x0, applies the consistency
/// boundary condition (<c>denoised = c_out·x0 + c_skip·x</c> with the timestep scaled by <c>timestep_scaling</c>), and
/// except on the last step re-noises <c>denoised</c> to the next timestep with fresh noise from each image's generator.
/// The preview x0 is <c>denoised</c>, which the pipeline decodes at the end. No input scaling, <c>init_noise_sigma</c> 1.
/// </summary>
public sealed class LcmScheduler : IScheduler
{
    private const float SigmaData = 0.5f;
    private readonly PredictionType _prediction;
    private readonly bool _clipSample;
    private readonly float _clipSampleRange;
    private readonly float _timestepScaling;
    private readonly float[] _alphasCumprod;
    private readonly float _finalAlphaCumprod;
    private readonly long[] _intTimesteps;
    private readonly double[] _timesteps;
    private float[]? _noise;

    internal LcmScheduler(SchedulerSettings s, int steps)
    {
        int T = s.NumTrainTimesteps;
        int original = s.OriginalInferenceSteps;
        if (original > T)
        {
            throw new SchedulerOptionException("original_inference_steps", $"must not exceed num_train_timesteps ({T}), got {original}");
        }
        if (steps > original)
        {
            throw new SchedulerOptionException("steps", $"LCM takes at most original_inference_steps ({original}) steps, got {steps}");
        }
        _prediction = s.Prediction;
        _clipSample = s.ClipSample;
        _clipSampleRange = (float)s.ClipSampleRange;
        _timestepScaling = (float)s.TimestepScaling;
        _alphasCumprod = NoiseSchedule.AlphasCumprod(NoiseSchedule.Betas(s));
        _finalAlphaCumprod = s.SetAlphaToOne ? 1f : _alphasCumprod[0];

        // lcm_origin_timesteps = (1..original) * k - 1, reversed; picked at floor(linspace(0, original, steps, endpoint=False)).
        int k = T / original;
        double[] indices = NoiseSchedule.NumpyLinspace(0, original, steps, endpoint: false);
        _intTimesteps = new long[steps];
        for (int i = 0; i < steps; i++)
        {
            long index = (long)Math.Floor(indices[i]);
            _intTimesteps[i] = (original - index) * k - 1;
        }
        _timesteps = new double[steps];
        for (int i = 0; i < steps; i++) _timesteps[i] = _intTimesteps[i];
    }

    /// <inheritdoc />
    public IReadOnlyList<double> Timesteps => _timesteps;

    /// <inheritdoc />
    public double InitNoiseSigma => 1.0;

    /// <inheritdoc />
    public double ModelInputScale(int stepIndex) => 1.0;

    /// <summary>
    /// diffusers' <c>get_scalings_for_boundary_condition_discrete</c> in float32 (torch's <c>0.25 / x</c> is
    /// <c>x.reciprocal() * 0.25</c>).
    /// </summary>
    internal (float CSkip, float COut) BoundaryScalings(long timestep)
    {
        float scaled = timestep * _timestepScaling;
        float denominator = scaled * scaled + SigmaData * SigmaData;
        float cSkip = 1f / denominator * (SigmaData * SigmaData);
        float cOut = scaled / MathF.Sqrt(denominator);
        return (cSkip, cOut);
    }

    /// <inheritdoc />
    public void Step(int stepIndex, ReadOnlySpan<float> modelOutput, Span<float> sample, Span<float> predictedOriginal, INoiseSource noise)
    {
        int n = sample.Length;
        long t = _intTimesteps[stepIndex];
        bool last = stepIndex == _intTimesteps.Length - 1;
        long prevT = last ? t : _intTimesteps[stepIndex + 1];
        float alphaT = _alphasCumprod[t];
        float alphaPrev = prevT >= 0 ? _alphasCumprod[prevT] : _finalAlphaCumprod;
        float sqrtAlpha = MathF.Sqrt(alphaT), sqrtBeta = MathF.Sqrt(1f - alphaT);
        var (cSkip, cOut) = BoundaryScalings(t);

        StepMath.AlphaPredictOriginal(_prediction, sqrtAlpha, sqrtBeta, modelOutput, sample, predictedOriginal);
        if (_clipSample) StepMath.Clamp(predictedOriginal, _clipSampleRange);

        // denoised = c_out * x0 + c_skip * sample, kept in predictedOriginal (the preview and the last step's result).
        for (int i = 0; i < n; i++) predictedOriginal[i] = cOut * predictedOriginal[i] + cSkip * sample[i];
        if (last)
        {
            predictedOriginal.CopyTo(sample);
            return;
        }
        float[] z = _noise ??= new float[n];
        noise.FillStandardNormal(z);
        float sqrtAlphaPrev = MathF.Sqrt(alphaPrev), sqrtBetaPrev = MathF.Sqrt(1f - alphaPrev);
        for (int i = 0; i < n; i++) sample[i] = sqrtAlphaPrev * predictedOriginal[i] + sqrtBetaPrev * z[i];
    }
}
