using System.Globalization;
using System.Text.Json;

namespace DiffusionGrpc.Core.Schedulers;

/// <summary>diffusers' <c>beta_schedule</c>.</summary>
public enum BetaSchedule
{
    /// <summary><c>"linear"</c>: betas evenly from beta_start to beta_end.</summary>
    Linear,

    /// <summary><c>"scaled_linear"</c>: square roots evenly spaced, then squared (Stable Diffusion).</summary>
    ScaledLinear,

    /// <summary><c>"squaredcos_cap_v2"</c>: the cosine schedule, betas capped at 0.999.</summary>
    SquaredCosCapV2,
}

/// <summary>diffusers' <c>prediction_type</c>: what the UNet predicts.</summary>
public enum PredictionType
{
    /// <summary><c>"epsilon"</c>: the noise.</summary>
    Epsilon,

    /// <summary><c>"v_prediction"</c>: the velocity v = sqrt(ᾱ)·ε − sqrt(1−ᾱ)·x0.</summary>
    VPrediction,

    /// <summary><c>"sample"</c>: the denoised sample x0.</summary>
    Sample,
}

/// <summary>diffusers' <c>final_sigmas_type</c> (Euler, DPM-Solver).</summary>
public enum FinalSigmasType
{
    /// <summary><c>"zero"</c>: the last sigma is 0.</summary>
    Zero,

    /// <summary><c>"sigma_min"</c>: the last sigma is the training schedule's smallest.</summary>
    SigmaMin,
}

/// <summary>
/// A model's <c>scheduler/scheduler_config.json</c>, as diffusers' <c>from_config</c> reads it: every key the
/// supported classes know, null where the file does not have it (so the chosen class applies its own default).
/// Unknown keys are ignored; unsupported values throw <see cref="SchedulerConfigException"/> naming the key.
/// </summary>
public sealed class SchedulerConfig
{
    /// <summary>The config's <c>_class_name</c>, kept even when it is not supported.</summary>
    public string? ClassName { get; init; }

    /// <summary>The scheduler type of <see cref="ClassName"/>; null when the class is absent or not supported.</summary>
    public SchedulerType? Type { get; init; }

    /// <summary><c>num_train_timesteps</c> (diffusers default 1000).</summary>
    public int? NumTrainTimesteps { get; init; }

    /// <summary><c>beta_start</c>.</summary>
    public double? BetaStart { get; init; }

    /// <summary><c>beta_end</c>.</summary>
    public double? BetaEnd { get; init; }

    /// <summary><c>beta_schedule</c>.</summary>
    public BetaSchedule? BetaSchedule { get; init; }

    /// <summary><c>trained_betas</c>: explicit betas, replacing beta_start/beta_end/beta_schedule.</summary>
    public IReadOnlyList<double>? TrainedBetas { get; init; }

    /// <summary><c>steps_offset</c>.</summary>
    public int? StepsOffset { get; init; }

    /// <summary><c>timestep_spacing</c>.</summary>
    public TimestepSpacingMode? TimestepSpacing { get; init; }

    /// <summary><c>prediction_type</c>.</summary>
    public PredictionType? PredictionType { get; init; }

    /// <summary><c>clip_sample</c> (DDIM, LCM).</summary>
    public bool? ClipSample { get; init; }

    /// <summary><c>clip_sample_range</c> (DDIM, LCM).</summary>
    public double? ClipSampleRange { get; init; }

    /// <summary><c>set_alpha_to_one</c> (DDIM, PNDM, LCM).</summary>
    public bool? SetAlphaToOne { get; init; }

    /// <summary><c>rescale_betas_zero_snr</c> (Euler, Euler ancestral, DDIM, DPM-Solver, LCM).</summary>
    public bool? RescaleBetasZeroSnr { get; init; }

    /// <summary><c>timestep_scaling</c> (LCM).</summary>
    public double? TimestepScaling { get; init; }

    /// <summary><c>original_inference_steps</c> (LCM).</summary>
    public int? OriginalInferenceSteps { get; init; }

    /// <summary><c>use_karras_sigmas</c> (LMS, Euler, DPM-Solver).</summary>
    public bool? UseKarrasSigmas { get; init; }

    /// <summary><c>skip_prk_steps</c> (PNDM).</summary>
    public bool? SkipPrkSteps { get; init; }

    /// <summary><c>thresholding</c> (DDIM, DPM-Solver, LCM): only false is supported.</summary>
    public bool? Thresholding { get; init; }

    /// <summary><c>dynamic_thresholding_ratio</c> (only read with thresholding, which is not supported).</summary>
    public double? DynamicThresholdingRatio { get; init; }

    /// <summary><c>sample_max_value</c> (only read with thresholding, which is not supported).</summary>
    public double? SampleMaxValue { get; init; }

    /// <summary><c>solver_order</c> (DPM-Solver): 1 or 2.</summary>
    public int? SolverOrder { get; init; }

    /// <summary><c>algorithm_type</c> (DPM-Solver): only <c>dpmsolver++</c> (and <c>deis</c>, which diffusers maps to it).</summary>
    public string? AlgorithmType { get; init; }

    /// <summary><c>solver_type</c> (DPM-Solver): <c>midpoint</c> or <c>heun</c> (<c>logrho</c>, <c>bh1</c>, <c>bh2</c> map to midpoint).</summary>
    public string? SolverType { get; init; }

    /// <summary><c>lower_order_final</c> (DPM-Solver).</summary>
    public bool? LowerOrderFinal { get; init; }

    /// <summary><c>euler_at_final</c> (DPM-Solver).</summary>
    public bool? EulerAtFinal { get; init; }

    /// <summary><c>final_sigmas_type</c> (Euler, DPM-Solver).</summary>
    public FinalSigmasType? FinalSigmasType { get; init; }

    /// <summary><c>lambda_min_clipped</c> (DPM-Solver).</summary>
    public double? LambdaMinClipped { get; init; }

    /// <summary><c>variance_type</c> (DPM-Solver): null, <c>learned</c> or <c>learned_range</c> (3 output channels kept).</summary>
    public string? VarianceType { get; init; }

    /// <summary><c>interpolation_type</c> (Euler): only <c>linear</c>.</summary>
    public string? InterpolationType { get; init; }

    /// <summary><c>timestep_type</c> (Euler): <c>discrete</c>, or <c>continuous</c> (not with v_prediction).</summary>
    public string? TimestepType { get; init; }

    /// <summary><c>sigma_min</c> (Euler, Karras sigmas only).</summary>
    public double? SigmaMin { get; init; }

    /// <summary><c>sigma_max</c> (Euler, Karras sigmas only).</summary>
    public double? SigmaMax { get; init; }

    /// <summary><c>use_exponential_sigmas</c>: only false is supported.</summary>
    public bool? UseExponentialSigmas { get; init; }

    /// <summary><c>use_beta_sigmas</c>: only false is supported.</summary>
    public bool? UseBetaSigmas { get; init; }

    /// <summary><c>use_lu_lambdas</c> (DPM-Solver): only false is supported.</summary>
    public bool? UseLuLambdas { get; init; }

    /// <summary><c>use_flow_sigmas</c> (DPM-Solver): only false is supported.</summary>
    public bool? UseFlowSigmas { get; init; }

    /// <summary>Reads and parses a <c>scheduler_config.json</c> file.</summary>
    public static SchedulerConfig Load(string path) => Parse(File.ReadAllText(path));

    /// <summary>Parses the JSON text of a <c>scheduler_config.json</c>.</summary>
    /// <exception cref="SchedulerConfigException">Not a JSON object, or a known key has an unsupported value.</exception>
    public static SchedulerConfig Parse(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new SchedulerConfigException("", "scheduler_config.json is not valid JSON: " + e.Message);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new SchedulerConfigException("", "scheduler_config.json must be a JSON object.");
            return FromElement(doc.RootElement);
        }
    }

    /// <summary>Parses a config from a JSON object element.</summary>
    public static SchedulerConfig FromElement(JsonElement root)
    {
        var p = new Reader(root);
        string? className = p.String("_class_name");
        SchedulerType? type = SchedulerNames.TryFromClassName(className, out var t) ? t : null;
        var config = new SchedulerConfig
        {
            ClassName = className,
            Type = type,
            NumTrainTimesteps = p.Int("num_train_timesteps", 1, 100_000),
            BetaStart = p.Double("beta_start", 0, 1),
            BetaEnd = p.Double("beta_end", 0, 1),
            BetaSchedule = p.Enum("beta_schedule", static s => s switch
            {
                "linear" => Schedulers.BetaSchedule.Linear,
                "scaled_linear" => Schedulers.BetaSchedule.ScaledLinear,
                "squaredcos_cap_v2" => Schedulers.BetaSchedule.SquaredCosCapV2,
                _ => (BetaSchedule?)null,
            }, "linear, scaled_linear, squaredcos_cap_v2"),
            TrainedBetas = p.DoubleArray("trained_betas"),
            StepsOffset = p.Int("steps_offset", 0, 100_000),
            TimestepSpacing = p.Enum("timestep_spacing", static s => s switch
            {
                "linspace" => TimestepSpacingMode.Linspace,
                "leading" => TimestepSpacingMode.Leading,
                "trailing" => TimestepSpacingMode.Trailing,
                _ => (TimestepSpacingMode?)null,
            }, "linspace, leading, trailing"),
            PredictionType = p.Enum("prediction_type", static s => s switch
            {
                "epsilon" => Schedulers.PredictionType.Epsilon,
                "v_prediction" => Schedulers.PredictionType.VPrediction,
                "sample" => Schedulers.PredictionType.Sample,
                _ => (PredictionType?)null,
            }, "epsilon, v_prediction, sample"),
            ClipSample = p.Bool("clip_sample"),
            ClipSampleRange = p.Double("clip_sample_range", 0, double.MaxValue),
            SetAlphaToOne = p.Bool("set_alpha_to_one"),
            RescaleBetasZeroSnr = p.Bool("rescale_betas_zero_snr"),
            TimestepScaling = p.Double("timestep_scaling", 0, double.MaxValue),
            OriginalInferenceSteps = p.Int("original_inference_steps", 1, 100_000),
            UseKarrasSigmas = p.Bool("use_karras_sigmas"),
            SkipPrkSteps = p.Bool("skip_prk_steps"),
            Thresholding = p.FalseOnly("thresholding"),
            DynamicThresholdingRatio = p.Double("dynamic_thresholding_ratio", 0, 1),
            SampleMaxValue = p.Double("sample_max_value", 0, double.MaxValue),
            SolverOrder = p.Int("solver_order", 1, 3),
            AlgorithmType = p.Choice("algorithm_type", "dpmsolver++ (deis is read as dpmsolver++)", "dpmsolver++", "deis"),
            SolverType = p.Choice("solver_type", "midpoint, heun (logrho, bh1, bh2 are read as midpoint)", "midpoint", "heun", "logrho", "bh1", "bh2"),
            LowerOrderFinal = p.Bool("lower_order_final"),
            EulerAtFinal = p.Bool("euler_at_final"),
            FinalSigmasType = p.Enum("final_sigmas_type", static s => s switch
            {
                "zero" => Schedulers.FinalSigmasType.Zero,
                "sigma_min" => Schedulers.FinalSigmasType.SigmaMin,
                _ => (FinalSigmasType?)null,
            }, "zero, sigma_min"),
            LambdaMinClipped = p.Double("lambda_min_clipped", double.NegativeInfinity, double.PositiveInfinity),
            VarianceType = p.Choice("variance_type", "null, learned, learned_range, fixed_small, fixed_small_log, fixed_large, fixed_large_log",
                "learned", "learned_range", "fixed_small", "fixed_small_log", "fixed_large", "fixed_large_log"),
            InterpolationType = p.Choice("interpolation_type", "linear", "linear"),
            TimestepType = p.Choice("timestep_type", "discrete, continuous", "discrete", "continuous"),
            SigmaMin = p.Double("sigma_min", 0, double.MaxValue),
            SigmaMax = p.Double("sigma_max", 0, double.MaxValue),
            UseExponentialSigmas = p.FalseOnly("use_exponential_sigmas"),
            UseBetaSigmas = p.FalseOnly("use_beta_sigmas"),
            UseLuLambdas = p.FalseOnly("use_lu_lambdas"),
            UseFlowSigmas = p.FalseOnly("use_flow_sigmas"),
        };
        if (config.OriginalInferenceSteps is int original && original > (config.NumTrainTimesteps ?? 1000))
        {
            throw new SchedulerConfigException("original_inference_steps",
                $"scheduler config key 'original_inference_steps' = {original} exceeds num_train_timesteps ({config.NumTrainTimesteps ?? 1000}).");
        }
        return config;
    }

    /// <summary>Typed access to the keys of a config object, throwing <see cref="SchedulerConfigException"/>.</summary>
    private readonly struct Reader(JsonElement root)
    {
        private bool TryGet(string key, out JsonElement value)
        {
            if (root.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null)
                return true;
            value = default;
            return false;
        }

        public string? String(string key)
        {
            if (!TryGet(key, out var v)) return null;
            if (v.ValueKind != JsonValueKind.String)
                throw new SchedulerConfigException(key, $"scheduler config key '{key}' must be a string.");
            return v.GetString();
        }

        public bool? Bool(string key)
        {
            if (!TryGet(key, out var v)) return null;
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new SchedulerConfigException(key, $"scheduler config key '{key}' must be true or false."),
            };
        }

        public bool? FalseOnly(string key)
        {
            bool? b = Bool(key);
            if (b == true)
                throw new SchedulerConfigException(key, $"scheduler config key '{key}' = true is not supported; allowed: false.");
            return b;
        }

        public int? Int(string key, int min, int max)
        {
            if (!TryGet(key, out var v)) return null;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || d != Math.Floor(d) || d < min || d > max)
                throw new SchedulerConfigException(key, $"scheduler config key '{key}' must be an integer from {min} to {max}.");
            return (int)d;
        }

        public double? Double(string key, double min, double max)
        {
            if (!TryGet(key, out var v)) return null;
            double d;
            if (v.ValueKind == JsonValueKind.Number)
                d = v.GetDouble();
            else if (v.ValueKind == JsonValueKind.String && v.GetString() is { } s &&
                     (s is "-inf" or "-Infinity" or "inf" or "Infinity" || double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
                d = s switch
                {
                    "-inf" or "-Infinity" => double.NegativeInfinity,
                    "inf" or "Infinity" => double.PositiveInfinity,
                    _ => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture),
                };
            else
                throw new SchedulerConfigException(key, $"scheduler config key '{key}' must be a number.");
            if (double.IsNaN(d) || d < min || d > max)
                throw new SchedulerConfigException(key, $"scheduler config key '{key}' = {d.ToString(CultureInfo.InvariantCulture)} is out of range; allowed: {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}.");
            return d;
        }

        public IReadOnlyList<double>? DoubleArray(string key)
        {
            if (!TryGet(key, out var v)) return null;
            if (v.ValueKind != JsonValueKind.Array)
                throw new SchedulerConfigException(key, $"scheduler config key '{key}' must be an array of numbers.");
            var list = new double[v.GetArrayLength()];
            int i = 0;
            foreach (var e in v.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.Number)
                    throw new SchedulerConfigException(key, $"scheduler config key '{key}' must be an array of numbers.");
                list[i++] = e.GetDouble();
            }
            return list;
        }

        public T? Enum<T>(string key, Func<string, T?> map, string allowed) where T : struct
        {
            string? s = String(key);
            if (s is null) return null;
            return map(s) ?? throw new SchedulerConfigException(key, $"scheduler config key '{key}' = \"{s}\" is not supported; allowed: {allowed}.");
        }

        public string? Choice(string key, string allowed, params string[] values)
        {
            string? s = String(key);
            if (s is null) return null;
            if (Array.IndexOf(values, s) < 0)
                throw new SchedulerConfigException(key, $"scheduler config key '{key}' = \"{s}\" is not supported; allowed: {allowed}.");
            return s;
        }
    }
}
