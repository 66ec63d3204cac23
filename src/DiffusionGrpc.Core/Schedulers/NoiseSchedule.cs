namespace DiffusionGrpc.Core.Schedulers;

/// <summary>
/// The training noise schedule shared by every scheduler (betas, ᾱ, sigmas) and the numeric building blocks of
/// the timestep and sigma setup, each rounding as the torch (float32) or numpy (float64) call it mirrors.
/// </summary>
internal static class NoiseSchedule
{
    /// <summary>The betas of the settings, as diffusers builds them in float32 (with the zero-SNR rescale).</summary>
    public static float[] Betas(SchedulerSettings s)
    {
        int n = s.NumTrainTimesteps;
        float[] betas;
        if (s.TrainedBetas is { } trained)
        {
            betas = new float[trained.Count];
            for (int i = 0; i < betas.Length; i++) betas[i] = (float)trained[i];
        }
        else
        {
            switch (s.BetaSchedule)
            {
                case BetaSchedule.Linear:
                    betas = TorchLinspace(s.BetaStart, s.BetaEnd, n);
                    break;
                case BetaSchedule.ScaledLinear:
                    betas = TorchLinspace(Math.Sqrt(s.BetaStart), Math.Sqrt(s.BetaEnd), n);
                    for (int i = 0; i < n; i++) betas[i] *= betas[i];
                    break;
                default:
                    betas = new float[n];
                    for (int i = 0; i < n; i++)
                    {
                        double t1 = (double)i / n, t2 = (double)(i + 1) / n;
                        betas[i] = (float)Math.Min(1 - AlphaBarCosine(t2) / AlphaBarCosine(t1), 0.999);
                    }
                    break;
            }
        }
        if (s.RescaleBetasZeroSnr)
            betas = RescaleZeroTerminalSnr(betas);
        return betas;
    }

    private static double AlphaBarCosine(double t)
    {
        double c = Math.Cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /// <summary>ᾱ_t = Π(1 − β): torch's CPU cumprod, which accumulates in double and stores float32.</summary>
    public static float[] AlphasCumprod(float[] betas)
    {
        var result = new float[betas.Length];
        double acc = 1.0;
        for (int i = 0; i < betas.Length; i++)
        {
            acc *= 1f - betas[i];
            result[i] = (float)acc;
        }
        return result;
    }

    /// <summary>diffusers' <c>rescale_zero_terminal_snr</c> (float32 tensor arithmetic).</summary>
    public static float[] RescaleZeroTerminalSnr(float[] betas)
    {
        int n = betas.Length;
        float[] ac = AlphasCumprod(betas);
        var sqrtAc = new float[n];
        for (int i = 0; i < n; i++) sqrtAc[i] = MathF.Sqrt(ac[i]);
        float first = sqrtAc[0], last = sqrtAc[n - 1];
        float scale = first / (first - last);
        var alphaBar = new float[n];
        for (int i = 0; i < n; i++)
        {
            float v = (sqrtAc[i] - last) * scale;
            alphaBar[i] = v * v;
        }
        var result = new float[n];
        result[0] = 1f - alphaBar[0];
        for (int i = 1; i < n; i++) result[i] = 1f - alphaBar[i] / alphaBar[i - 1];
        return result;
    }

    /// <summary>σ_t = ((1 − ᾱ) / ᾱ) ** 0.5 in float32, ascending in t.</summary>
    public static float[] Sigmas(float[] alphasCumprod)
    {
        var sigmas = new float[alphasCumprod.Length];
        for (int i = 0; i < sigmas.Length; i++)
            sigmas[i] = MathF.Sqrt((1f - alphasCumprod[i]) / alphasCumprod[i]);
        return sigmas;
    }

    /// <summary>
    /// <c>torch.linspace(start, end, n, dtype=float32)</c> on the CPU: float32 step, the first half counted from the
    /// start and the second from the end, in AVX2 vectors of 8 (<c>base + j·step</c>) over pairs, the tail scalar.
    /// torch's AVX2 kernel is compiled with FMA contraction: the vector bases and scalar points <c>start + step·idx</c>
    /// and <c>end − step·k</c> are one fused multiply-add each (rounding twice differs by an ulp on ~13% of SD's
    /// betas, which the zero-terminal-SNR rescale amplifies to 1e-6 in the sigmas); <c>Vectorized::arange</c>'s
    /// <c>base + j·step</c> is not fused (checked against torch 1.13 on several ranges).
    /// </summary>
    public static float[] TorchLinspace(double start, double end, int n)
    {
        var r = new float[n];
        if (n == 1) { r[0] = (float)start; return r; }
        float fs = (float)start, fe = (float)end;
        float step = (fe - fs) / (n - 1);
        int half = n / 2;
        int idx = 0;
        const int V = 8;
        for (; idx <= n - 2 * V; idx += V)
        {
            float b = Point(idx);
            for (int j = 0; j < V; j++) r[idx + j] = b + j * step;
        }
        for (; idx < n; idx++)
            r[idx] = Point(idx);
        return r;

        float Point(int i) => i < half ? MathF.FusedMultiplyAdd(step, i, fs) : MathF.FusedMultiplyAdd(-step, n - i - 1, fe);
    }

    /// <summary><c>np.linspace(start, stop, num, endpoint)</c> in float64.</summary>
    public static double[] NumpyLinspace(double start, double stop, int num, bool endpoint = true)
    {
        var r = new double[num];
        int div = endpoint ? num - 1 : num;
        double delta = stop - start;
        if (div > 0)
        {
            double step = delta / div;
            for (int i = 0; i < num; i++) r[i] = i * step + start;
        }
        else
        {
            for (int i = 0; i < num; i++) r[i] = i * delta + start;
        }
        if (endpoint && num > 1) r[num - 1] = stop;
        return r;
    }

    /// <summary><c>np.arange(start, stop, step)</c> for a float step: <c>start + i·((start + step) − start)</c>.</summary>
    public static double[] NumpyArange(double start, double stop, double step)
    {
        double len = Math.Ceiling((stop - start) / step);
        int n = len > 0 ? (int)len : 0;
        var r = new double[n];
        if (n == 0) return r;
        double delta = start + step - start;
        r[0] = start;
        for (int i = 1; i < n; i++) r[i] = start + i * delta;
        return r;
    }

    /// <summary><c>np.round</c>: half to even.</summary>
    public static double Round(double x) => Math.Round(x, MidpointRounding.ToEven);

    /// <summary><c>np.interp(x, arange(len(fp)), fp)</c> in float64.</summary>
    public static double Interp(double x, float[] fp)
    {
        int n = fp.Length;
        if (x <= 0) return fp[0];
        if (x >= n - 1) return fp[n - 1];
        int j = (int)Math.Floor(x);
        double slope = (double)fp[j + 1] - fp[j];
        double r = slope * (x - j) + fp[j];
        if (double.IsNaN(r)) r = slope * (x - (j + 1)) + fp[j + 1];
        return r;
    }

    /// <summary>diffusers' <c>_convert_to_karras</c> (float64, rho = 7).</summary>
    public static double[] KarrasSigmas(double sigmaMin, double sigmaMax, int n)
    {
        const double rho = 7.0;
        double[] ramp = NumpyLinspace(0, 1, n);
        double minInvRho = Math.Pow(sigmaMin, 1 / rho);
        double maxInvRho = Math.Pow(sigmaMax, 1 / rho);
        var r = new double[n];
        for (int i = 0; i < n; i++) r[i] = Math.Pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), rho);
        return r;
    }

    /// <summary><c>np.log</c> of the float32 sigmas (a float32 array).</summary>
    public static float[] LogSigmas(float[] sigmas)
    {
        var r = new float[sigmas.Length];
        for (int i = 0; i < r.Length; i++) r[i] = MathF.Log(sigmas[i]);
        return r;
    }

    /// <summary>
    /// diffusers' <c>_sigma_to_t</c>: the fractional training timestep of a sigma by interpolating log-sigmas. As
    /// numpy 1.x promotes a float64 scalar against a float32 array, the distances and weight are float32.
    /// </summary>
    public static double SigmaToT(double sigma, float[] logSigmas)
    {
        float logSigma = (float)Math.Log(Math.Max(sigma, 1e-10));
        int n = logSigmas.Length;
        int low = 0;
        for (int i = 0; i < n; i++)
            if (logSigma - logSigmas[i] >= 0f) low = i;
        if (low > n - 2) low = n - 2;
        int high = low + 1;
        float lo = logSigmas[low], hi = logSigmas[high];
        float w = (lo - logSigma) / (lo - hi);
        w = Math.Clamp(w, 0f, 1f);
        return (double)(1f - w) * low + (double)w * high;
    }

    /// <summary>
    /// <c>np.round(np.arange(start, 0, -numTrain / steps))</c>: the trailing spacing before its <c>- 1</c>.
    /// </summary>
    public static long[] TrailingRaw(double start, int numTrain, int steps)
    {
        double[] a = NumpyArange(start, 0, -(double)numTrain / steps);
        var r = new long[a.Length];
        for (int i = 0; i < a.Length; i++) r[i] = (long)Round(a[i]);
        return r;
    }
}

/// <summary>The timestep and sigma setup shared by the sigma schedulers (LMS, Euler, Euler ancestral).</summary>
internal static class SigmaSchedule
{
    /// <summary>The float32 timesteps of <c>set_timesteps</c> for the spacing, as LMS and Euler compute them.</summary>
    public static float[] Timesteps(SchedulerSettings s, int steps)
    {
        int T = s.NumTrainTimesteps;
        float[] ts = new float[steps];
        switch (s.Spacing)
        {
            case TimestepSpacingMode.Linspace:
            {
                double[] l = NoiseSchedule.NumpyLinspace(0, T - 1, steps);
                for (int i = 0; i < steps; i++) ts[i] = (float)l[steps - 1 - i];
                return ts;
            }
            case TimestepSpacingMode.Leading:
            {
                int ratio = T / steps;
                for (int i = 0; i < steps; i++) ts[i] = (float)((long)(steps - 1 - i) * ratio) + s.StepsOffset;
                return ts;
            }
            default:
            {
                long[] raw = NoiseSchedule.TrailingRaw(T, T, steps);
                ts = new float[raw.Length];
                for (int i = 0; i < raw.Length; i++) ts[i] = raw[i] - 1f;
                return ts;
            }
        }
    }

    /// <summary>
    /// Sigmas interpolated at the timesteps (linear in sigma, float64), then Karras sigmas (with timesteps mapped
    /// back) when asked; the final sigma is appended by the caller.
    /// </summary>
    public static double[] InterpolatedSigmas(SchedulerSettings s, float[] trainSigmas, ref float[] timesteps)
    {
        var sig = new double[timesteps.Length];
        for (int i = 0; i < sig.Length; i++) sig[i] = NoiseSchedule.Interp(timesteps[i], trainSigmas);
        if (s.UseKarrasSigmas && sig.Length > 0)
        {
            double min = s.SigmaMin ?? sig[^1];
            double max = s.SigmaMax ?? sig[0];
            sig = NoiseSchedule.KarrasSigmas(min, max, timesteps.Length);
            float[] logSigmas = NoiseSchedule.LogSigmas(trainSigmas);
            var ts = new float[sig.Length];
            for (int i = 0; i < sig.Length; i++) ts[i] = (float)NoiseSchedule.SigmaToT(sig[i], logSigmas);
            timesteps = ts;
        }
        return sig;
    }

    /// <summary><c>init_noise_sigma</c>: σmax for linspace and trailing, sqrt(σmax² + 1) for leading (float32).</summary>
    public static double InitNoiseSigma(SchedulerSettings s, float[] sigmas)
    {
        float max = 0f;
        foreach (float v in sigmas) max = Math.Max(max, v);
        return s.Spacing == TimestepSpacingMode.Leading ? MathF.Sqrt(max * max + 1f) : max;
    }

    /// <summary>The multiplier of <c>scale_model_input</c>: 1 / (σ² + 1) ** 0.5, the root in float32.</summary>
    public static double InputScale(float sigma) => 1.0 / MathF.Sqrt(sigma * sigma + 1f);
}

/// <summary>The integer timesteps of the ᾱ schedulers (DDIM, PNDM).</summary>
internal static class IntegerTimesteps
{
    /// <summary>DDIM's <c>set_timesteps</c>: descending integer timesteps for the spacing.</summary>
    public static long[] Descending(SchedulerSettings s, int steps)
    {
        int T = s.NumTrainTimesteps;
        var ts = new long[steps];
        switch (s.Spacing)
        {
            case TimestepSpacingMode.Linspace:
            {
                double[] l = NoiseSchedule.NumpyLinspace(0, T - 1, steps);
                for (int i = 0; i < steps; i++) ts[i] = (long)NoiseSchedule.Round(l[steps - 1 - i]);
                return ts;
            }
            case TimestepSpacingMode.Leading:
            {
                int ratio = T / steps;
                for (int i = 0; i < steps; i++) ts[i] = (long)(steps - 1 - i) * ratio + s.StepsOffset;
                return ts;
            }
            default:
            {
                long[] raw = NoiseSchedule.TrailingRaw(T, T, steps);
                for (int i = 0; i < raw.Length; i++) raw[i] -= 1;
                return raw;
            }
        }
    }
}
