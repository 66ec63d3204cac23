using DiffusionGrpc.Core.Noise;

namespace DiffusionGrpc.Core.Schedulers;

/// <summary>
/// diffusers' <c>EulerDiscreteScheduler</c> (no churn: <c>s_churn = 0</c> as the pipelines call it): one Euler
/// step of the sigma ODE per timestep; Karras sigmas (with <c>sigma_min</c>/<c>sigma_max</c>), <c>final_sigmas_type</c>,
/// zero-SNR rescaling and <c>timestep_type</c> continuous (v_prediction: timesteps 0.25·log σ) supported.
/// </summary>
public sealed class EulerDiscreteScheduler : IScheduler
{
    private readonly PredictionType _prediction;
    private readonly float[] _sigmas;
    private readonly double[] _timesteps;

    internal EulerDiscreteScheduler(SchedulerSettings s, int steps)
    {
        _prediction = s.Prediction;
        float[] ac = NoiseSchedule.AlphasCumprod(NoiseSchedule.Betas(s));
        if (s.RescaleBetasZeroSnr) ac[^1] = MathF.Pow(2f, -24f);
        float[] train = NoiseSchedule.Sigmas(ac);
        float[] ts = SigmaSchedule.Timesteps(s, steps);
        double[] sig = SigmaSchedule.InterpolatedSigmas(s, train, ref ts);
        _sigmas = new float[sig.Length + 1];
        for (int i = 0; i < sig.Length; i++) _sigmas[i] = (float)sig[i];
        _sigmas[^1] = s.FinalSigmas == FinalSigmasType.SigmaMin ? MathF.Sqrt((1f - ac[0]) / ac[0]) : 0f;
        _timesteps = new double[ts.Length];
        bool continuous = s.ContinuousTimesteps && s.Prediction == PredictionType.VPrediction;
        for (int i = 0; i < ts.Length; i++)
        {
            // timestep_type "continuous" with v_prediction: the UNet gets 0.25·log σ (float32), as diffusers does.
            _timesteps[i] = continuous ? 0.25f * MathF.Log(_sigmas[i]) : ts[i];
        }
        InitNoiseSigma = SigmaSchedule.InitNoiseSigma(s, _sigmas);
    }

    /// <inheritdoc />
    public IReadOnlyList<double> Timesteps => _timesteps;

    /// <inheritdoc />
    public double InitNoiseSigma { get; }

    /// <summary>The sigmas of the run, one per timestep plus the final one.</summary>
    public IReadOnlyList<float> Sigmas => _sigmas;

    /// <inheritdoc />
    public double ModelInputScale(int stepIndex) => SigmaSchedule.InputScale(_sigmas[stepIndex]);

    /// <inheritdoc />
    public void Step(int stepIndex, ReadOnlySpan<float> modelOutput, Span<float> sample, Span<float> predictedOriginal, INoiseSource noise)
    {
        float sigma = _sigmas[stepIndex];
        StepMath.SigmaPredictOriginal(_prediction, sigma, modelOutput, sample, predictedOriginal);
        float dt = _sigmas[stepIndex + 1] - sigma;
        for (int i = 0; i < sample.Length; i++)
        {
            float derivative = (sample[i] - predictedOriginal[i]) / sigma;
            sample[i] += derivative * dt;
        }
    }
}
