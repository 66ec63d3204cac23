namespace DiffusionGrpc.Core.Schedulers;

/// <summary>The noise schedulers this project implements, each mirroring one diffusers class.</summary>
public enum SchedulerType
{
    /// <summary>diffusers' <c>LMSDiscreteScheduler</c>: linear multistep (order 4) on sigmas.</summary>
    Lms,

    /// <summary>diffusers' <c>EulerDiscreteScheduler</c>.</summary>
    Euler,

    /// <summary>diffusers' <c>EulerAncestralDiscreteScheduler</c>: Euler with fresh noise every step.</summary>
    EulerAncestral,

    /// <summary>diffusers' <c>DDIMScheduler</c>.</summary>
    Ddim,

    /// <summary>diffusers' <c>PNDMScheduler</c> (PLMS when <c>skip_prk_steps</c>, else PRK then PLMS).</summary>
    Pndm,

    /// <summary>diffusers' <c>DPMSolverMultistepScheduler</c> (DPM-Solver++ 2M).</summary>
    DpmSolverMultistep,

    /// <summary>diffusers' <c>LCMScheduler</c> (latent consistency models).</summary>
    Lcm,
}

/// <summary>How the inference timesteps are spread over the training timesteps (diffusers' <c>timestep_spacing</c>).</summary>
public enum TimestepSpacingMode
{
    /// <summary><c>"linspace"</c>: evenly from 0 to T-1, both ends included.</summary>
    Linspace,

    /// <summary><c>"leading"</c>: multiples of T // N starting at 0, plus <c>steps_offset</c>.</summary>
    Leading,

    /// <summary><c>"trailing"</c>: from T-1 down in steps of T / N.</summary>
    Trailing,
}

/// <summary>Names of the scheduler types as diffusers and its config files spell them.</summary>
public static class SchedulerNames
{
    /// <summary>The diffusers class name (the <c>_class_name</c> of <c>scheduler_config.json</c>) of a type.</summary>
    public static string ClassName(SchedulerType type) => type switch
    {
        SchedulerType.Lms => "LMSDiscreteScheduler",
        SchedulerType.Euler => "EulerDiscreteScheduler",
        SchedulerType.EulerAncestral => "EulerAncestralDiscreteScheduler",
        SchedulerType.Ddim => "DDIMScheduler",
        SchedulerType.Pndm => "PNDMScheduler",
        SchedulerType.DpmSolverMultistep => "DPMSolverMultistepScheduler",
        SchedulerType.Lcm => "LCMScheduler",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>The type whose diffusers class is <paramref name="className"/> (case-sensitive), if supported.</summary>
    public static bool TryFromClassName(string? className, out SchedulerType type)
    {
        switch (className)
        {
            case "LMSDiscreteScheduler": type = SchedulerType.Lms; return true;
            case "EulerDiscreteScheduler": type = SchedulerType.Euler; return true;
            case "EulerAncestralDiscreteScheduler": type = SchedulerType.EulerAncestral; return true;
            case "DDIMScheduler": type = SchedulerType.Ddim; return true;
            case "PNDMScheduler": type = SchedulerType.Pndm; return true;
            case "DPMSolverMultistepScheduler": type = SchedulerType.DpmSolverMultistep; return true;
            case "LCMScheduler": type = SchedulerType.Lcm; return true;
            default: type = default; return false;
        }
    }

    /// <summary>The config spelling of a spacing: <c>linspace</c>, <c>leading</c> or <c>trailing</c>.</summary>
    public static string SpacingName(TimestepSpacingMode spacing) => spacing switch
    {
        TimestepSpacingMode.Linspace => "linspace",
        TimestepSpacingMode.Leading => "leading",
        TimestepSpacingMode.Trailing => "trailing",
        _ => throw new ArgumentOutOfRangeException(nameof(spacing), spacing, null),
    };
}
