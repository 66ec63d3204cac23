using DiffusionGrpc.Core.Noise;

namespace DiffusionGrpc.Core.Schedulers;

/// <summary>
/// diffusers' <c>LMSDiscreteScheduler</c>: linear multistep of order 4 on the sigma ODE, with the Lagrange basis
/// integrated exactly between consecutive sigmas (diffusers integrates it numerically with scipy).
/// </summary>
public sealed class LmsDiscreteScheduler : IScheduler
{
    private const int Order = 4;
    private readonly PredictionType _prediction;
    private readonly float[] _sigmas;
    private readonly double[] _timesteps;
    private readonly float[][] _derivatives = new float[Order][];
    private int _derivativeCount;
    private int _newest = -1;

    internal LmsDiscreteScheduler(SchedulerSettings s, int steps)
    {
        _prediction = s.Prediction;
        float[] train = NoiseSchedule.Sigmas(NoiseSchedule.AlphasCumprod(NoiseSchedule.Betas(s)));
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
        int n = sample.Length;
        float sigma = _sigmas[stepIndex];
        StepMath.SigmaPredictOriginal(_prediction, sigma, modelOutput, sample, predictedOriginal);

        _newest = (_newest + 1) % Order;
        float[] d = _derivatives[_newest] ??= new float[n];
        for (int i = 0; i < n; i++) d[i] = (sample[i] - predictedOriginal[i]) / sigma;
        if (_derivativeCount < Order) _derivativeCount++;

        int order = Math.Min(stepIndex + 1, Order);
        Span<float> coeffs = stackalloc float[Order];
        for (int j = 0; j < order; j++) coeffs[j] = (float)LmsCoefficient(order, stepIndex, j);

        // sample + ((0 + c0·d_newest) + c1·d_prev + ...), each product and sum rounded to float32.
        int terms = Math.Min(order, _derivativeCount);
        float[] d0 = _derivatives[_newest];
        float[]? d1 = terms > 1 ? _derivatives[(_newest + Order - 1) % Order] : null;
        float[]? d2 = terms > 2 ? _derivatives[(_newest + Order - 2) % Order] : null;
        float[]? d3 = terms > 3 ? _derivatives[(_newest + Order - 3) % Order] : null;
        float c0 = coeffs[0], c1 = coeffs[1], c2 = coeffs[2], c3 = coeffs[3];
        for (int i = 0; i < n; i++)
        {
            float acc = c0 * d0[i];
            if (d1 is not null) acc += c1 * d1[i];
            if (d2 is not null) acc += c2 * d2[i];
            if (d3 is not null) acc += c3 * d3[i];
            sample[i] += acc;
        }
    }

    /// <summary>∫ from σ_t to σ_{t+1} of the Lagrange basis polynomial of node <paramref name="current"/>, exactly.</summary>
    private double LmsCoefficient(int order, int t, int current)
    {
        // Polynomial coefficients (ascending powers) of Π_{k≠current} (τ − σ_{t−k}) / (σ_{t−current} − σ_{t−k}).
        Span<double> poly = stackalloc double[Order + 1];
        poly.Clear();
        poly[0] = 1;
        int degree = 0;
        double xc = _sigmas[t - current];
        for (int k = 0; k < order; k++)
        {
            if (k == current) continue;
            double xk = _sigmas[t - k];
            double denom = xc - xk;
            for (int p = degree + 1; p >= 0; p--)
            {
                double shifted = p > 0 ? poly[p - 1] : 0;
                poly[p] = (shifted - xk * poly[p]) / denom;
            }
            degree++;
        }
        double a = _sigmas[t], b = _sigmas[t + 1];
        double result = 0;
        for (int p = degree; p >= 0; p--)
        {
            // Horner on the antiderivative: Σ poly[p] / (p+1) · (b^{p+1} − a^{p+1}).
            result += poly[p] / (p + 1) * (Math.Pow(b, p + 1) - Math.Pow(a, p + 1));
        }
        return result;
    }
}
