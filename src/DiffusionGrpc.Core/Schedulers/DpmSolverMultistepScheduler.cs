using DiffusionGrpc.Core.Noise;

namespace DiffusionGrpc.Core.Schedulers;

/// <summary>
/// diffusers' <c>DPMSolverMultistepScheduler</c> with <c>algorithm_type="dpmsolver++"</c> (DPM++ 2M with the default
/// <c>solver_order=2</c>; orders 1 and 3 and the <c>heun</c> solver type too): the model output is converted to x0,
/// then a multistep update in log-SNR. First order on the first step, and on the last one when
/// <c>final_sigmas_type</c> is <c>zero</c>, <c>euler_at_final</c> is set, or <c>lower_order_final</c> with fewer
/// than 15 steps (which also lowers the second-to-last step). Karras sigmas, <c>lambda_min_clipped</c> and zero-SNR
/// rescaling supported. No input scaling, <c>init_noise_sigma</c> 1; the arithmetic is float32 as torch does it.
/// </summary>
public sealed class DpmSolverMultistepScheduler : IScheduler
{
    private readonly PredictionType _prediction;
    private readonly int _order;
    private readonly bool _heun;
    private readonly bool _lowerOrderFinal;
    private readonly bool _eulerAtFinal;
    private readonly bool _finalSigmaZero;
    private readonly float[] _sigmas;
    private readonly double[] _timesteps;
    private readonly float[]?[] _modelOutputs;
    private int _lowerOrderNums;

    internal DpmSolverMultistepScheduler(SchedulerSettings s, int steps)
    {
        _prediction = s.Prediction;
        _order = s.SolverOrder;
        _heun = s.SolverHeun;
        _lowerOrderFinal = s.LowerOrderFinal;
        _eulerAtFinal = s.EulerAtFinal;
        _finalSigmaZero = s.FinalSigmas == FinalSigmasType.Zero;
        _modelOutputs = new float[]?[_order];

        int T = s.NumTrainTimesteps;
        float[] ac = NoiseSchedule.AlphasCumprod(NoiseSchedule.Betas(s));
        if (s.RescaleBetasZeroSnr) ac[^1] = MathF.Pow(2f, -24f);
        float[] train = NoiseSchedule.Sigmas(ac);

        // last_timestep = T - searchsorted(flip(lambda_t), lambda_min_clipped)
        int clipped = 0;
        if (!double.IsNegativeInfinity(s.LambdaMinClipped))
        {
            float min = (float)s.LambdaMinClipped;
            for (int i = 0; i < T; i++)
            {
                float lambda = MathF.Log(MathF.Sqrt(ac[i])) - MathF.Log(MathF.Sqrt(1f - ac[i]));
                if (lambda < min) clipped++;
            }
        }
        int last = T - clipped;

        long[] ts;
        switch (s.Spacing)
        {
            case TimestepSpacingMode.Linspace:
            {
                double[] l = NoiseSchedule.NumpyLinspace(0, last - 1, steps + 1);
                ts = new long[steps];
                for (int i = 0; i < steps; i++) ts[i] = (long)NoiseSchedule.Round(l[steps - i]);
                break;
            }
            case TimestepSpacingMode.Leading:
            {
                int ratio = last / (steps + 1);
                ts = new long[steps];
                for (int i = 0; i < steps; i++) ts[i] = (long)(steps - i) * ratio + s.StepsOffset;
                break;
            }
            default:
            {
                ts = NoiseSchedule.TrailingRaw(last, T, steps);
                for (int i = 0; i < ts.Length; i++) ts[i] -= 1;
                break;
            }
        }

        double[] sig;
        if (s.UseKarrasSigmas)
        {
            // in_sigmas = flip(train sigmas): sigma_min = train[0], sigma_max = train[^1] (DPM reads no config bounds).
            sig = NoiseSchedule.KarrasSigmas(train[0], train[^1], steps);
            float[] logSigmas = NoiseSchedule.LogSigmas(train);
            ts = new long[sig.Length];
            bool round = s.BetaSchedule != BetaSchedule.SquaredCosCapV2; // diffusers checks the config key, trained_betas or not
            for (int i = 0; i < sig.Length; i++)
            {
                double t = NoiseSchedule.SigmaToT(sig[i], logSigmas);
                ts[i] = (long)(round ? NoiseSchedule.Round(t) : t);
            }
        }
        else
        {
            sig = new double[ts.Length];
            for (int i = 0; i < ts.Length; i++) sig[i] = NoiseSchedule.Interp(ts[i], train);
        }

        _sigmas = new float[sig.Length + 1];
        for (int i = 0; i < sig.Length; i++) _sigmas[i] = (float)sig[i];
        _sigmas[^1] = _finalSigmaZero ? 0f : MathF.Sqrt((1f - ac[0]) / ac[0]);
        _timesteps = new double[ts.Length];
        for (int i = 0; i < ts.Length; i++) _timesteps[i] = ts[i];
    }

    /// <inheritdoc />
    public IReadOnlyList<double> Timesteps => _timesteps;

    /// <inheritdoc />
    public double InitNoiseSigma => 1.0;

    /// <summary>The sigmas of the run, one per timestep plus the final one.</summary>
    public IReadOnlyList<float> Sigmas => _sigmas;

    /// <inheritdoc />
    public double ModelInputScale(int stepIndex) => 1.0;

    /// <summary>diffusers' <c>_sigma_to_alpha_sigma_t</c> and λ = log α − log σ, in float32.</summary>
    private static (float Alpha, float Sigma, float Lambda) AlphaSigma(float sigma)
    {
        float alpha = 1f / MathF.Sqrt(sigma * sigma + 1f);
        float sigmaT = sigma * alpha;
        return (alpha, sigmaT, MathF.Log(alpha) - MathF.Log(sigmaT));
    }

    /// <inheritdoc />
    public void Step(int stepIndex, ReadOnlySpan<float> modelOutput, Span<float> sample, Span<float> predictedOriginal, INoiseSource noise)
    {
        int n = sample.Length;
        int count = _timesteps.Length;
        bool lowerOrderFinal = stepIndex == count - 1 && (_eulerAtFinal || (_lowerOrderFinal && count < 15) || _finalSigmaZero);
        bool lowerOrderSecond = stepIndex == count - 2 && _lowerOrderFinal && count < 15;

        // convert_model_output: x0 of the current sample, pushed into the history (oldest buffer reused).
        var (alphaS0, sigmaS0, lambdaS0) = AlphaSigma(_sigmas[stepIndex]);
        float[] m0 = _modelOutputs[0] ?? new float[n];
        for (int k = 0; k < _order - 1; k++) _modelOutputs[k] = _modelOutputs[k + 1];
        _modelOutputs[_order - 1] = m0;
        switch (_prediction)
        {
            case PredictionType.Epsilon:
                for (int i = 0; i < n; i++) m0[i] = (sample[i] - sigmaS0 * modelOutput[i]) / alphaS0;
                break;
            case PredictionType.VPrediction:
                for (int i = 0; i < n; i++) m0[i] = alphaS0 * sample[i] - sigmaS0 * modelOutput[i];
                break;
            default:
                modelOutput.CopyTo(m0);
                break;
        }
        m0.AsSpan().CopyTo(predictedOriginal);

        var (alphaT, sigmaT, lambdaT) = AlphaSigma(_sigmas[stepIndex + 1]);
        float h = lambdaT - lambdaS0;
        float sampleCoeff = sigmaT / sigmaS0;
        float expm = MathF.Exp(-h) - 1f;
        float c0 = alphaT * expm;

        if (_order == 1 || _lowerOrderNums < 1 || lowerOrderFinal)
        {
            for (int i = 0; i < n; i++) sample[i] = sampleCoeff * sample[i] - c0 * m0[i];
        }
        else if (_order == 2 || _lowerOrderNums < 2 || lowerOrderSecond)
        {
            float[] m1 = _modelOutputs[_order - 2]!;
            var (_, _, lambdaS1) = AlphaSigma(_sigmas[stepIndex - 1]);
            float h0 = lambdaS0 - lambdaS1;
            float r0 = h0 / h;
            float invR0 = 1f / r0;
            if (_heun)
            {
                float c1 = alphaT * (expm / h + 1f);
                for (int i = 0; i < n; i++)
                {
                    float d1 = invR0 * (m0[i] - m1[i]);
                    sample[i] = sampleCoeff * sample[i] - c0 * m0[i] + c1 * d1;
                }
            }
            else
            {
                float c1 = 0.5f * c0;
                for (int i = 0; i < n; i++)
                {
                    float d1 = invR0 * (m0[i] - m1[i]);
                    sample[i] = sampleCoeff * sample[i] - c0 * m0[i] - c1 * d1;
                }
            }
        }
        else
        {
            float[] m1 = _modelOutputs[_order - 2]!, m2 = _modelOutputs[_order - 3]!;
            var (_, _, lambdaS1) = AlphaSigma(_sigmas[stepIndex - 1]);
            var (_, _, lambdaS2) = AlphaSigma(_sigmas[stepIndex - 2]);
            float h0 = lambdaS0 - lambdaS1, h1 = lambdaS1 - lambdaS2;
            float r0 = h0 / h, r1 = h1 / h;
            float invR0 = 1f / r0, invR1 = 1f / r1;
            float w = r0 / (r0 + r1);
            float invR01 = 1f / (r0 + r1);
            float c1 = alphaT * (expm / h + 1f);
            float c2 = alphaT * ((expm + h) / (h * h) - 0.5f);
            for (int i = 0; i < n; i++)
            {
                float d10 = invR0 * (m0[i] - m1[i]);
                float d11 = invR1 * (m1[i] - m2[i]);
                float diff = d10 - d11;
                float d1 = d10 + w * diff;
                float d2 = invR01 * diff;
                sample[i] = sampleCoeff * sample[i] - c0 * m0[i] + c1 * d1 - c2 * d2;
            }
        }
        if (_lowerOrderNums < _order) _lowerOrderNums++;
    }
}
