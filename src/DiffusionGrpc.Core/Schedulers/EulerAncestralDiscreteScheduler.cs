using DiffusionGrpc.Core.Noise;

namespace DiffusionGrpc.Core.Schedulers;

/// <summary>
/// diffusers' <c>EulerAncestralDiscreteScheduler</c>: an Euler step down to σ_down, then fresh noise of σ_up
/// (drawn every step, the last included, from the noise source over the whole batch).
/// </summary>
public sealed class EulerAncestralDiscreteScheduler : IScheduler
{
    private readonly PredictionType _prediction;
    private readonly float[] _sigmas;
    private readonly double[] _timesteps;
    private float[]? _noise;

    internal EulerAncestralDiscreteScheduler(SchedulerSettings s, int steps)
    {
        _prediction = s.Prediction;
        float[] ac = NoiseSchedule.AlphasCumprod(NoiseSchedule.Betas(s));
        if (s.RescaleBetasZeroSnr) ac[^1] = MathF.Pow(2f, -24f);
        float[] train = NoiseSchedule.Sigmas(ac);
        float[] ts = SigmaSchedule.Timesteps(s, steps);
        double[] sig = SigmaSchedule.InterpolatedSigmas(s, train, ref ts);
        _sigmas = new float[sig.Length + 1];
        for (int i = 0; i < sig.Length; i++) _sigmas[i] = (float)sig[i];
        _timesteps = new double[ts.Length];
        for (int i = 0; i < ts.Length; i++) _timesteps[i] = ts[i];
        InitNoiseSigma = SigmaSchedule.InitNoiseSigma(s, _sigmas);
    }

    /// <inheritdoc />
    public IReadOnlyList<double> Timesteps => _timesteps;

    /// <inheritdoc />
    public double InitNoiseSigma { get; }

    /// <summary>The sigmas of the run, one per timestep plus the final 0.</summary>
    public IReadOnlyList<float> Sigmas => _sigmas;

    /// <inheritdoc />
    public double ModelInputScale(int stepIndex) => SigmaSchedule.InputScale(_sigmas[stepIndex]);

    /// <inheritdoc />
    public void Step(int stepIndex, ReadOnlySpan<float> modelOutput, Span<float> sample, Span<float> predictedOriginal, INoiseSource noise)
    {
        float sigma = _sigmas[stepIndex];
        StepMath.SigmaPredictOriginal(_prediction, sigma, modelOutput, sample, predictedOriginal);
        float from = sigma, to = _sigmas[stepIndex + 1];
        float to2 = to * to, from2 = from * from;
        float sigmaUp = MathF.Sqrt(to2 * (from2 - to2) / from2);
        float sigmaDown = MathF.Sqrt(to2 - sigmaUp * sigmaUp);
        float dt = sigmaDown - sigma;
        float[] z = _noise ??= new float[sample.Length];
        noise.FillStandardNormal(z);
        for (int i = 0; i < sample.Length; i++)
        {
            float derivative = (sample[i] - predictedOriginal[i]) / sigma;
            float prev = sample[i] + derivative * dt;
            sample[i] = prev + z[i] * sigmaUp;
        }
    }
}
