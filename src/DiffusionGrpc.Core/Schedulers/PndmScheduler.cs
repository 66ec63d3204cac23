using DiffusionGrpc.Core.Noise;

namespace DiffusionGrpc.Core.Schedulers;

/// <summary>
/// diffusers' <c>PNDMScheduler</c>. With <c>skip_prk_steps</c> it runs PLMS: N steps give N + 1 timesteps (the
/// second-to-last training timestep of the grid repeated for the warm-up correction). Without it, a Runge-Kutta
/// (PRK) warm-up of 12 evaluations precedes PLMS (N + 9 timesteps; needs N ≥ 4 and the leading spacing).
/// </summary>
public sealed class PndmScheduler : IScheduler
{
    private readonly PredictionType _prediction;
    private readonly float[] _alphasCumprod;
    private readonly float _finalAlphaCumprod;
    private readonly long[] _intTimesteps;
    private readonly double[] _timesteps;
    private readonly int _prkCount;
    private readonly long[] _prkTimesteps;
    private readonly bool _skipPrk;
    private readonly int _ratio;
    private readonly int _halfRatio;

    // History: up to 4 model outputs (ets), newest last, in a ring.
    private readonly float[][] _ets = new float[4][];
    private int _etsCount;
    private int _etsNewest = -1;
    private float[]? _curSample;
    private bool _hasCurSample;
    private float[]? _curModelOutput;
    private float[]? _combined;
    private int _counter;

    internal PndmScheduler(SchedulerSettings s, int steps)
    {
        _prediction = s.Prediction;
        _skipPrk = s.SkipPrkSteps;
        int T = s.NumTrainTimesteps;
        _ratio = T / steps;
        _halfRatio = T / steps / 2;
        _alphasCumprod = NoiseSchedule.AlphasCumprod(NoiseSchedule.Betas(s));
        _finalAlphaCumprod = s.SetAlphaToOne ? 1f : _alphasCumprod[0];

        // _timesteps: ascending grid.
        long[] grid = new long[steps];
        switch (s.Spacing)
        {
            case TimestepSpacingMode.Linspace:
            {
                double[] l = NoiseSchedule.NumpyLinspace(0, T - 1, steps);
                for (int i = 0; i < steps; i++) grid[i] = (long)NoiseSchedule.Round(l[i]);
                break;
            }
            case TimestepSpacingMode.Leading:
                for (int i = 0; i < steps; i++) grid[i] = (long)i * _ratio + s.StepsOffset;
                break;
            default:
            {
                long[] raw = NoiseSchedule.TrailingRaw(T, T, steps);
                grid = new long[raw.Length];
                for (int i = 0; i < raw.Length; i++) grid[i] = raw[raw.Length - 1 - i] - 1;
                break;
            }
        }

        var list = new List<long>();
        if (_skipPrk)
        {
            _prkTimesteps = [];
            // concat(grid[:-1], grid[-2:-1], grid[-1:]) reversed.
            var fwd = new List<long>();
            for (int i = 0; i < grid.Length - 1; i++) fwd.Add(grid[i]);
            if (grid.Length >= 2) fwd.Add(grid[^2]);
            if (grid.Length >= 1) fwd.Add(grid[^1]);
            for (int i = fwd.Count - 1; i >= 0; i--) list.Add(fwd[i]);
        }
        else
        {
            // x = grid[-4:].repeat(2) + tile([0, T//N//2], 4); prk = x[:-1].repeat(2)[1:-1] reversed.
            var x = new long[8];
            for (int i = 0; i < 4; i++)
            {
                x[2 * i] = grid[grid.Length - 4 + i];
                x[2 * i + 1] = grid[grid.Length - 4 + i] + _halfRatio;
            }
            var rep = new long[14];
            for (int i = 0; i < 7; i++) { rep[2 * i] = x[i]; rep[2 * i + 1] = x[i]; }
            _prkTimesteps = new long[12];
            for (int i = 0; i < 12; i++) _prkTimesteps[i] = rep[12 - i];
            list.AddRange(_prkTimesteps);
            for (int i = grid.Length - 4; i >= 0; i--) list.Add(grid[i]);
        }
        _prkCount = _prkTimesteps.Length;
        _intTimesteps = list.ToArray();
        _timesteps = new double[_intTimesteps.Length];
        for (int i = 0; i < _timesteps.Length; i++) _timesteps[i] = _intTimesteps[i];
        foreach (long t in _intTimesteps)
            if (t >= T)
                throw new SchedulerOptionException("scheduler.timestep_spacing",
                    $"PNDM without skip_prk_steps reaches timestep {t} with this spacing, beyond the {T} training timesteps; use the leading spacing.");
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
        long t = _intTimesteps[stepIndex];
        {
            // Preview: x0 from the current sample and this evaluation's raw output.
            float a = _alphasCumprod[t];
            StepMath.AlphaPredictOriginal(_prediction, MathF.Sqrt(a), MathF.Sqrt(1f - a), modelOutput, sample, predictedOriginal);
        }
        if (!_skipPrk && _counter < _prkCount)
            StepPrk(t, modelOutput, sample);
        else
            StepPlms(t, modelOutput, sample);
    }

    private float[] Buffer(ref float[]? b, int n) => b ??= new float[n];

    private void PushEt(ReadOnlySpan<float> modelOutput)
    {
        _etsNewest = (_etsNewest + 1) % 4;
        float[] e = _ets[_etsNewest] ??= new float[modelOutput.Length];
        modelOutput.CopyTo(e);
        if (_etsCount < 4) _etsCount++;
    }

    private float[] Et(int back) => _ets[(_etsNewest + 4 - back) % 4];

    private void StepPrk(long timestep, ReadOnlySpan<float> modelOutput, Span<float> sample)
    {
        int n = sample.Length;
        long diffToPrev = _counter % 2 != 0 ? 0 : _halfRatio;
        long prevT = timestep - diffToPrev;
        long t = _prkTimesteps[_counter / 4 * 4];
        float[] cur = Buffer(ref _curModelOutput, n);
        float[] combined = Buffer(ref _combined, n);
        float[] curSample = Buffer(ref _curSample, n);
        const float sixth = (float)(1.0 / 6), third = (float)(1.0 / 3);
        ReadOnlySpan<float> mo = modelOutput;
        switch (_counter % 4)
        {
            case 0:
                for (int i = 0; i < n; i++) cur[i] = sixth * modelOutput[i];
                PushEt(modelOutput);
                sample.CopyTo(curSample);
                _hasCurSample = true;
                break;
            case 1:
            case 2:
                for (int i = 0; i < n; i++) cur[i] += third * modelOutput[i];
                break;
            default:
                for (int i = 0; i < n; i++) combined[i] = cur[i] + sixth * modelOutput[i];
                Array.Clear(cur);
                mo = combined;
                break;
        }
        if (_hasCurSample)
            PrevSample(curSample, t, prevT, mo, sample);
        else
            PrevSample(sample, t, prevT, mo, sample);
        _counter++;
    }

    private void StepPlms(long timestep, ReadOnlySpan<float> modelOutput, Span<float> sample)
    {
        int n = sample.Length;
        long prevT = timestep - _ratio;
        if (_counter != 1)
            PushEt(modelOutput);
        else
        {
            prevT = timestep;
            timestep += _ratio;
        }
        float[] combined = Buffer(ref _combined, n);
        float[] curSample = Buffer(ref _curSample, n);
        if (_etsCount == 1 && _counter == 0)
        {
            modelOutput.CopyTo(combined);
            sample.CopyTo(curSample);
            _hasCurSample = true;
            PrevSample(sample, timestep, prevT, combined, sample);
        }
        else if (_etsCount == 1 && _counter == 1)
        {
            float[] e1 = Et(0);
            for (int i = 0; i < n; i++) combined[i] = (modelOutput[i] + e1[i]) / 2f;
            _hasCurSample = false;
            PrevSample(curSample, timestep, prevT, combined, sample);
        }
        else
        {
            float[] e1 = Et(0);
            if (_etsCount == 2)
            {
                float[] e2 = Et(1);
                for (int i = 0; i < n; i++) combined[i] = (3f * e1[i] - e2[i]) / 2f;
            }
            else if (_etsCount == 3)
            {
                float[] e2 = Et(1), e3 = Et(2);
                for (int i = 0; i < n; i++) combined[i] = (23f * e1[i] - 16f * e2[i] + 5f * e3[i]) / 12f;
            }
            else
            {
                float[] e2 = Et(1), e3 = Et(2), e4 = Et(3);
                const float c = (float)(1.0 / 24);
                for (int i = 0; i < n; i++) combined[i] = c * (55f * e1[i] - 59f * e2[i] + 37f * e3[i] - 9f * e4[i]);
            }
            PrevSample(sample, timestep, prevT, combined, sample);
        }
        _counter++;
    }

    /// <summary>diffusers' <c>_get_prev_sample</c> (formula (9) of the PNDM paper), writing into <paramref name="destination"/>.</summary>
    private void PrevSample(ReadOnlySpan<float> sample, long t, long prevT, ReadOnlySpan<float> modelOutput, Span<float> destination)
    {
        float alphaT = _alphasCumprod[t];
        float alphaPrev = prevT >= 0 ? _alphasCumprod[prevT] : _finalAlphaCumprod;
        float betaT = 1f - alphaT;
        float betaPrev = 1f - alphaPrev;
        float sampleCoeff = MathF.Sqrt(alphaPrev / alphaT);
        float denom = alphaT * MathF.Sqrt(betaPrev) + MathF.Sqrt(alphaT * betaT * alphaPrev);
        float diff = alphaPrev - alphaT;
        if (_prediction == PredictionType.VPrediction)
        {
            float sa = MathF.Sqrt(alphaT), sb = MathF.Sqrt(betaT);
            for (int i = 0; i < destination.Length; i++)
            {
                float eps = sa * modelOutput[i] + sb * sample[i];
                destination[i] = sampleCoeff * sample[i] - diff * eps / denom;
            }
        }
        else
        {
            for (int i = 0; i < destination.Length; i++)
                destination[i] = sampleCoeff * sample[i] - diff * modelOutput[i] / denom;
        }
    }
}
