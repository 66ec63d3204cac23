namespace DiffusionGrpc.Core.Schedulers;

/// <summary>The scheduler a request runs with, every option resolved.</summary>
/// <param name="Type">The scheduler.</param>
/// <param name="Spacing">Its timestep spacing.</param>
/// <param name="UseKarrasSigmas">Whether Karras sigmas are used.</param>
/// <param name="Eta">DDIM's eta.</param>
public sealed record ResolvedScheduler(SchedulerType Type, TimestepSpacingMode Spacing, bool UseKarrasSigmas, float Eta);

/// <summary>
/// Creates schedulers like diffusers' <c>ChosenScheduler.from_config(model_config)</c>: the config's keys
/// carry over, absent ones take the chosen class's defaults, then the request's overrides win.
/// </summary>
public sealed class SchedulerFactory
{
    /// <summary>The types this factory implements.</summary>
    public static bool IsImplemented(SchedulerType type) =>
        type is SchedulerType.Lms or SchedulerType.Euler or SchedulerType.EulerAncestral or SchedulerType.Ddim or SchedulerType.Pndm
            or SchedulerType.DpmSolverMultistep or SchedulerType.Lcm;

    /// <summary>Resolves the chosen scheduler and its options without creating it.</summary>
    /// <exception cref="SchedulerUnsupportedException">Neither the overrides nor the config name an implemented scheduler.</exception>
    /// <exception cref="SchedulerOptionException">An option the chosen scheduler does not support.</exception>
    public ResolvedScheduler Resolve(SchedulerConfig config, SchedulerOverrides overrides)
    {
        var settings = Settings(config, overrides);
        return new ResolvedScheduler(settings.Type, settings.Spacing, settings.UseKarrasSigmas, settings.Eta);
    }

    /// <summary>Creates a scheduler set for <paramref name="steps"/> inference steps.</summary>
    public IScheduler Create(SchedulerConfig config, SchedulerOverrides overrides, int steps)
    {
        var settings = Settings(config, overrides);
        if (steps < 1 || steps > settings.NumTrainTimesteps)
        {
            throw new SchedulerOptionException("steps", $"must be from 1 to num_train_timesteps ({settings.NumTrainTimesteps}), got {steps}");
        }
        if (settings.Type == SchedulerType.Pndm && !settings.SkipPrkSteps && steps < 4)
        {
            throw new SchedulerOptionException("steps", $"PNDM with PRK steps (skip_prk_steps false) needs at least 4 steps, got {steps}");
        }
        return settings.Type switch
        {
            SchedulerType.Lms => new LmsDiscreteScheduler(settings, steps),
            SchedulerType.Euler => new EulerDiscreteScheduler(settings, steps),
            SchedulerType.EulerAncestral => new EulerAncestralDiscreteScheduler(settings, steps),
            SchedulerType.Ddim => new DdimScheduler(settings, steps),
            SchedulerType.Pndm => new PndmScheduler(settings, steps),
            SchedulerType.DpmSolverMultistep => new DpmSolverMultistepScheduler(settings, steps),
            SchedulerType.Lcm => new LcmScheduler(settings, steps),
            _ => throw new SchedulerOptionException("scheduler.kind", $"{settings.Type} is not implemented; allowed: {Allowed}"),
        };
    }

    private const string Allowed = "LMS, EULER, EULER_ANCESTRAL, DDIM, PNDM, DPMPP_2M, LCM";

    private static SchedulerSettings Settings(SchedulerConfig config, SchedulerOverrides overrides)
    {
        SchedulerType type = overrides.Type ?? config.Type ?? throw new SchedulerUnsupportedException(config.ClassName);
        if (!IsImplemented(type))
        {
            if (overrides.Type is null)
            {
                throw new SchedulerUnsupportedException(config.ClassName);
            }
            throw new SchedulerOptionException("scheduler.kind", $"{type} is not implemented; allowed: {Allowed}");
        }
        // EulerAncestralDiscreteScheduler has no use_karras_sigmas in diffusers.
        bool karrasCapable = type is SchedulerType.Lms or SchedulerType.Euler or SchedulerType.DpmSolverMultistep;
        if (overrides.UseKarrasSigmas == true && !karrasCapable)
        {
            throw new SchedulerOptionException("scheduler.use_karras_sigmas", $"is supported by LMS, EULER and DPMPP_2M only, not {type}");
        }
        if (overrides.Eta != 0 && type != SchedulerType.Ddim)
        {
            throw new SchedulerOptionException("scheduler.eta", $"applies to DDIM only (range [0, 1]); it must be 0 for {type}");
        }
        if (!float.IsFinite(overrides.Eta) || overrides.Eta < 0 || overrides.Eta > 1)
        {
            throw new SchedulerOptionException("scheduler.eta", $"must be from 0 to 1, got {overrides.Eta}");
        }
        if (type == SchedulerType.DpmSolverMultistep && config.VarianceType is "learned" or "learned_range")
        {
            // diffusers keeps the first 3 output channels then: a pixel-space model, not a latent UNet.
            throw new SchedulerOptionException("scheduler.kind", $"DPMPP_2M with the model's variance_type '{config.VarianceType}' is not supported");
        }
        return SchedulerSettings.Resolve(type, config, overrides);
    }
}
