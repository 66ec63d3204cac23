using DiffusionGrpc.Core.Noise;

namespace DiffusionGrpc.Core.Schedulers;

/// <summary>
/// diffusers' <c>DDIMScheduler</c>: <c>prev_t = t − T // N</c> whatever the spacing, optional clipping of x0,
/// <c>set_alpha_to_one</c>, and with eta &gt; 0 the variance noise drawn every step from the noise source.
/// </summary>
public sealed class DdimScheduler : IScheduler
{
    private readonly SchedulerSettings _s;
    private readonly float[] _alphasCumprod;
    private readonly float _finalAlphaCumprod;
    private readonly double[] _timesteps;
    private readonly long[] _intTimesteps;
    private readonly int _stepRatio;
    private float[]? _epsilon;
    private float[]? _noise;

    internal DdimScheduler(SchedulerSettings s, int steps)
    {
        _s = s;
        _alphasCumprod = NoiseSchedule.AlphasCumprod(NoiseSchedule.Betas(s));
        _finalAlphaCumprod = s.SetAlphaToOne ? 1f : _alphasCumprod[0];
        _intTimesteps = IntegerTimesteps.Descending(s, steps);
        _timesteps = new double[_intTimesteps.Length];
        for (int i = 0; i < _timesteps.Length; i++) _timesteps[i] = _intTimesteps[i];
        _stepRatio = s.NumTrainTimesteps / steps;
    }

    /// <inheritdoc />
    public IReadOnlyList<double> Timesteps => _timesteps;

    /// <inheritdoc />
    public double InitNoiseSigma => 1.0;

    /// <inheritdoc />
    public double ModelInputScale(int stepIndex) => 1.0;

    /// <inheritdoc />
    public void Step(int stepIndex, ReadOnlySpan<float> modelOutput, Span<float> sample, Span<float> predictedOriginal, INoiseSource noise)
    {
        int n = sample.Length;
        long t = _intTimesteps[stepIndex];
        long prevT = t - _stepRatio;
        float alphaT = _alphasCumprod[t];
        float alphaPrev = prevT >= 0 ? _alphasCumprod[prevT] : _finalAlphaCumprod;
        float betaT = 1f - alphaT;
        float sqrtAlpha = MathF.Sqrt(alphaT), sqrtBeta = MathF.Sqrt(betaT);

        float[] eps = _epsilon ??= new float[n];
        StepMath.AlphaPredictOriginal(_s.Prediction, sqrtAlpha, sqrtBeta, modelOutput, sample, predictedOriginal);
        switch (_s.Prediction)
        {
            case PredictionType.Epsilon:
                modelOutput.CopyTo(eps);
                break;
            case PredictionType.VPrediction:
                for (int i = 0; i < n; i++) eps[i] = sqrtAlpha * modelOutput[i] + sqrtBeta * sample[i];
                break;
            default:
                for (int i = 0; i < n; i++) eps[i] = (sample[i] - sqrtAlpha * predictedOriginal[i]) / sqrtBeta;
                break;
        }
        if (_s.ClipSample) StepMath.Clamp(predictedOriginal, (float)_s.ClipSampleRange);

        float betaPrev = 1f - alphaPrev;
        float variance = betaPrev / betaT * (1f - alphaT / alphaPrev);
        float std = _s.Eta * MathF.Sqrt(variance);
        float dirCoeff = MathF.Sqrt(1f - alphaPrev - std * std);
        float sqrtAlphaPrev = MathF.Sqrt(alphaPrev);
        for (int i = 0; i < n; i++) sample[i] = sqrtAlphaPrev * predictedOriginal[i] + dirCoeff * eps[i];
        if (_s.Eta > 0)
        {
            float[] z = _noise ??= new float[n];
            noise.FillStandardNormal(z);
            for (int i = 0; i < n; i++) sample[i] += std * z[i];
        }
    }
}
