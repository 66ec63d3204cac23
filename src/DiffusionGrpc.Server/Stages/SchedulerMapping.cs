using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Core.Schedulers;

namespace DiffusionGrpc.Server.Stages;

/// <summary>Proto scheduler enums to and from the Core's.</summary>
public static class SchedulerMapping
{
    /// <summary>The proto kind of a Core scheduler type (unspecified for none).</summary>
    public static SchedulerKind ToKind(SchedulerType? type) => type switch
    {
        SchedulerType.Lms => SchedulerKind.Lms,
        SchedulerType.Euler => SchedulerKind.Euler,
        SchedulerType.EulerAncestral => SchedulerKind.EulerAncestral,
        SchedulerType.Ddim => SchedulerKind.Ddim,
        SchedulerType.Pndm => SchedulerKind.Pndm,
        SchedulerType.DpmSolverMultistep => SchedulerKind.Dpmpp2M,
        SchedulerType.Lcm => SchedulerKind.Lcm,
        _ => SchedulerKind.Unspecified,
    };

    /// <summary>The Core type of a proto kind (null for unspecified).</summary>
    public static SchedulerType? ToType(SchedulerKind kind) => kind switch
    {
        SchedulerKind.Lms => SchedulerType.Lms,
        SchedulerKind.Euler => SchedulerType.Euler,
        SchedulerKind.EulerAncestral => SchedulerType.EulerAncestral,
        SchedulerKind.Ddim => SchedulerType.Ddim,
        SchedulerKind.Pndm => SchedulerType.Pndm,
        SchedulerKind.Dpmpp2M => SchedulerType.DpmSolverMultistep,
        SchedulerKind.Lcm => SchedulerType.Lcm,
        _ => null,
    };

    /// <summary>The Core spacing of a proto spacing (null for unspecified).</summary>
    public static TimestepSpacingMode? ToSpacing(TimestepSpacing spacing) => spacing switch
    {
        TimestepSpacing.Linspace => TimestepSpacingMode.Linspace,
        TimestepSpacing.Leading => TimestepSpacingMode.Leading,
        TimestepSpacing.Trailing => TimestepSpacingMode.Trailing,
        _ => null,
    };

    /// <summary>The proto spacing of a Core spacing.</summary>
    public static TimestepSpacing ToSpacing(TimestepSpacingMode spacing) => spacing switch
    {
        TimestepSpacingMode.Linspace => TimestepSpacing.Linspace,
        TimestepSpacingMode.Leading => TimestepSpacing.Leading,
        TimestepSpacingMode.Trailing => TimestepSpacing.Trailing,
        _ => TimestepSpacing.Unspecified,
    };

    /// <summary>The Core overrides of request options.</summary>
    public static SchedulerOverrides ToOverrides(SchedulerOptions? options) => options is null
        ? new SchedulerOverrides(null, null, null, 0f)
        : new SchedulerOverrides(ToType(options.Kind), ToSpacing(options.TimestepSpacing), options.UseKarrasSigmas, options.Eta);
}
