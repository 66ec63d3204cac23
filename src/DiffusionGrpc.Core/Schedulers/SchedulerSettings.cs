namespace DiffusionGrpc.Core.Schedulers;

/// <summary>
/// The full settings of one scheduler class after <c>from_config</c>: the keys of the model's config that the class
/// reads, the class's diffusers defaults for the rest, then the request's overrides.
/// </summary>
internal sealed class SchedulerSettings
{
    public SchedulerType Type { get; init; }
    public int NumTrainTimesteps { get; init; } = 1000;
    public double BetaStart { get; init; } = 0.0001;
    public double BetaEnd { get; init; } = 0.02;
    public BetaSchedule BetaSchedule { get; init; } = BetaSchedule.Linear;
    public IReadOnlyList<double>? TrainedBetas { get; init; }
    public int StepsOffset { get; init; }
    public TimestepSpacingMode Spacing { get; init; } = TimestepSpacingMode.Linspace;
    public PredictionType Prediction { get; init; } = PredictionType.Epsilon;
    public bool ClipSample { get; init; }
    public double ClipSampleRange { get; init; } = 1.0;
    public bool SetAlphaToOne { get; init; }
    public bool RescaleBetasZeroSnr { get; init; }
    public double TimestepScaling { get; init; } = 10.0;
    public int OriginalInferenceSteps { get; init; } = 50;
    public bool UseKarrasSigmas { get; init; }
    public bool SkipPrkSteps { get; init; }
    public int SolverOrder { get; init; } = 2;
    public bool SolverHeun { get; init; }
    public bool LowerOrderFinal { get; init; } = true;
    public bool EulerAtFinal { get; init; }
    public FinalSigmasType FinalSigmas { get; init; } = FinalSigmasType.Zero;
    public double LambdaMinClipped { get; init; } = double.NegativeInfinity;
    public double? SigmaMin { get; init; }
    public double? SigmaMax { get; init; }
    public bool ContinuousTimesteps { get; init; }
    public float Eta { get; init; }

    /// <summary>Resolves the settings of <paramref name="type"/> from a config and overrides (values only; the
    /// factory checks what the class supports).</summary>
    public static SchedulerSettings Resolve(SchedulerType type, SchedulerConfig c, SchedulerOverrides o)
    {
        bool lcm = type == SchedulerType.Lcm;
        bool karrasClass = type is SchedulerType.Lms or SchedulerType.Euler or SchedulerType.DpmSolverMultistep;
        bool rescaleClass = type is SchedulerType.Euler or SchedulerType.EulerAncestral or SchedulerType.Ddim
            or SchedulerType.DpmSolverMultistep or SchedulerType.Lcm;
        TimestepSpacingMode defaultSpacing = type is SchedulerType.Ddim or SchedulerType.Pndm or SchedulerType.Lcm
            ? TimestepSpacingMode.Leading
            : TimestepSpacingMode.Linspace;
        return new SchedulerSettings
        {
            Type = type,
            NumTrainTimesteps = c.NumTrainTimesteps ?? 1000,
            BetaStart = c.BetaStart ?? (lcm ? 0.00085 : 0.0001),
            BetaEnd = c.BetaEnd ?? (lcm ? 0.012 : 0.02),
            BetaSchedule = c.BetaSchedule ?? (lcm ? BetaSchedule.ScaledLinear : BetaSchedule.Linear),
            TrainedBetas = c.TrainedBetas,
            StepsOffset = c.StepsOffset ?? 0,
            Spacing = o.TimestepSpacing ?? c.TimestepSpacing ?? defaultSpacing,
            Prediction = c.PredictionType ?? PredictionType.Epsilon,
            ClipSample = type switch
            {
                SchedulerType.Ddim => c.ClipSample ?? true,
                SchedulerType.Lcm => c.ClipSample ?? false,
                _ => false,
            },
            ClipSampleRange = type is SchedulerType.Ddim or SchedulerType.Lcm ? c.ClipSampleRange ?? 1.0 : 1.0,
            SetAlphaToOne = type switch
            {
                SchedulerType.Ddim or SchedulerType.Lcm => c.SetAlphaToOne ?? true,
                SchedulerType.Pndm => c.SetAlphaToOne ?? false,
                _ => false,
            },
            RescaleBetasZeroSnr = rescaleClass && (c.RescaleBetasZeroSnr ?? false),
            TimestepScaling = lcm ? c.TimestepScaling ?? 10.0 : 10.0,
            OriginalInferenceSteps = lcm ? c.OriginalInferenceSteps ?? 50 : 50,
            UseKarrasSigmas = karrasClass && (o.UseKarrasSigmas ?? c.UseKarrasSigmas ?? false),
            SkipPrkSteps = type == SchedulerType.Pndm && (c.SkipPrkSteps ?? false),
            SolverOrder = type == SchedulerType.DpmSolverMultistep ? c.SolverOrder ?? 2 : 2,
            SolverHeun = type == SchedulerType.DpmSolverMultistep && c.SolverType == "heun",
            LowerOrderFinal = type != SchedulerType.DpmSolverMultistep || (c.LowerOrderFinal ?? true),
            EulerAtFinal = type == SchedulerType.DpmSolverMultistep && (c.EulerAtFinal ?? false),
            FinalSigmas = type is SchedulerType.Euler or SchedulerType.DpmSolverMultistep ? c.FinalSigmasType ?? FinalSigmasType.Zero : FinalSigmasType.Zero,
            LambdaMinClipped = type == SchedulerType.DpmSolverMultistep ? c.LambdaMinClipped ?? double.NegativeInfinity : double.NegativeInfinity,
            SigmaMin = type == SchedulerType.Euler ? c.SigmaMin : null,
            SigmaMax = type == SchedulerType.Euler ? c.SigmaMax : null,
            ContinuousTimesteps = type == SchedulerType.Euler && c.TimestepType == "continuous",
            Eta = o.Eta,
        };
    }
}
