using DiffusionGrpc.Core.Schedulers;

namespace DiffusionGrpc.Core.Tests.Schedulers;

/// <summary>
/// <c>from_config</c> semantics (the model's keys carry over, absent ones take the chosen class's diffusers
/// defaults, the request's options win), unknown keys ignored, unsupported values rejected.
/// </summary>
public sealed class SchedulerConfigTests
{
    // Stable Diffusion 1.5's scheduler_config.json.
    private const string Sd15 = """
        {
          "_class_name": "PNDMScheduler",
          "_diffusers_version": "0.6.0",
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "num_train_timesteps": 1000,
          "set_alpha_to_one": false,
          "skip_prk_steps": true,
          "steps_offset": 1,
          "trained_betas": null,
          "clip_sample": false
        }
        """;

    private static readonly SchedulerFactory Factory = new();

    [Fact]
    public void Config_keys_carry_over_to_the_chosen_class()
    {
        var config = SchedulerConfig.Parse(Sd15);
        Assert.Equal(SchedulerType.Pndm, config.Type);
        var ddim = SchedulerSettings.Resolve(SchedulerType.Ddim, config, new SchedulerOverrides(SchedulerType.Ddim));
        Assert.False(ddim.SetAlphaToOne);
        Assert.False(ddim.ClipSample);
        Assert.Equal(1, ddim.StepsOffset);
        Assert.Equal(BetaSchedule.ScaledLinear, ddim.BetaSchedule);
        Assert.Equal(0.00085, ddim.BetaStart);
        Assert.Equal(TimestepSpacingMode.Leading, ddim.Spacing);

        // The chosen class's defaults for absent keys: linspace for Euler and DPM-Solver, leading for DDIM/PNDM/LCM.
        Assert.Equal(TimestepSpacingMode.Linspace, SchedulerSettings.Resolve(SchedulerType.Euler, config, SchedulerOverrides.None).Spacing);
        var dpm = SchedulerSettings.Resolve(SchedulerType.DpmSolverMultistep, config, SchedulerOverrides.None);
        Assert.Equal(TimestepSpacingMode.Linspace, dpm.Spacing);
        Assert.Equal(2, dpm.SolverOrder);
        Assert.True(dpm.LowerOrderFinal);
        Assert.Equal(FinalSigmasType.Zero, dpm.FinalSigmas);
        Assert.False(dpm.UseKarrasSigmas);

        var scheduler = Factory.Create(config, new SchedulerOverrides(SchedulerType.Ddim), 4);
        Assert.Equal([751.0, 501.0, 251.0, 1.0], scheduler.Timesteps);
    }

    [Fact]
    public void An_empty_config_takes_each_class_default()
    {
        var empty = SchedulerConfig.Parse("{}");
        Assert.Null(empty.Type);
        var ddim = SchedulerSettings.Resolve(SchedulerType.Ddim, empty, SchedulerOverrides.None);
        Assert.True(ddim.ClipSample);
        Assert.True(ddim.SetAlphaToOne);
        Assert.Equal(BetaSchedule.Linear, ddim.BetaSchedule);
        var pndm = SchedulerSettings.Resolve(SchedulerType.Pndm, empty, SchedulerOverrides.None);
        Assert.False(pndm.SkipPrkSteps);
        Assert.False(pndm.SetAlphaToOne);
        var lcm = SchedulerSettings.Resolve(SchedulerType.Lcm, empty, SchedulerOverrides.None);
        Assert.Equal(0.00085, lcm.BetaStart);
        Assert.Equal(0.012, lcm.BetaEnd);
        Assert.Equal(BetaSchedule.ScaledLinear, lcm.BetaSchedule);
        Assert.Equal(50, lcm.OriginalInferenceSteps);
        Assert.Equal(10.0, lcm.TimestepScaling);
        Assert.True(lcm.SetAlphaToOne);
        Assert.False(lcm.ClipSample);
        Assert.Throws<SchedulerUnsupportedException>(() => Factory.Create(empty, SchedulerOverrides.None, 4));
    }

    [Fact]
    public void Request_options_override_the_config()
    {
        var config = SchedulerConfig.Parse("""{"_class_name": "DPMSolverMultistepScheduler", "use_karras_sigmas": true, "timestep_spacing": "leading", "algorithm_type": "dpmsolver++"}""");
        Assert.True(Factory.Resolve(config, SchedulerOverrides.None).UseKarrasSigmas);
        var resolved = Factory.Resolve(config, new SchedulerOverrides(TimestepSpacing: TimestepSpacingMode.Trailing, UseKarrasSigmas: false));
        Assert.Equal(SchedulerType.DpmSolverMultistep, resolved.Type);
        Assert.Equal(TimestepSpacingMode.Trailing, resolved.Spacing);
        Assert.False(resolved.UseKarrasSigmas);
        // A class without the key ignores it, as from_config does.
        Assert.False(Factory.Resolve(config, new SchedulerOverrides(SchedulerType.Ddim)).UseKarrasSigmas);
        // LCM reads no timestep_spacing: its timesteps come from original_inference_steps whatever the spacing.
        var lcmConfig = SchedulerConfig.Parse("""{"_class_name": "LCMScheduler"}""");
        foreach (var spacing in new[] { TimestepSpacingMode.Linspace, TimestepSpacingMode.Leading, TimestepSpacingMode.Trailing })
            Assert.Equal([999.0, 759.0, 499.0, 259.0], Factory.Create(lcmConfig, new SchedulerOverrides(TimestepSpacing: spacing), 4).Timesteps);
    }

    [Fact]
    public void Unknown_keys_are_ignored()
    {
        var config = SchedulerConfig.Parse("""{"_class_name": "EulerDiscreteScheduler", "_diffusers_version": "0.30.0", "some_future_key": [1, 2], "clip_sample": false}""");
        Assert.Equal(SchedulerType.Euler, config.Type);
        Assert.Equal(4, Factory.Create(config, SchedulerOverrides.None, 4).Timesteps.Count);
    }

    [Fact]
    public void An_unsupported_class_is_kept_by_name()
    {
        var config = SchedulerConfig.Parse("""{"_class_name": "KDPM2DiscreteScheduler"}""");
        Assert.Null(config.Type);
        Assert.Equal("KDPM2DiscreteScheduler", config.ClassName);
        var ex = Assert.Throws<SchedulerUnsupportedException>(() => Factory.Create(config, SchedulerOverrides.None, 4));
        Assert.Equal("KDPM2DiscreteScheduler", ex.ClassName);
        Assert.Equal(SchedulerType.Euler, Factory.Resolve(config, new SchedulerOverrides(SchedulerType.Euler)).Type);
    }

    [Theory]
    [InlineData("beta_schedule", "\"sigmoid\"")]
    [InlineData("timestep_spacing", "\"uniform\"")]
    [InlineData("prediction_type", "\"flow_prediction\"")]
    [InlineData("algorithm_type", "\"sde-dpmsolver++\"")]
    [InlineData("algorithm_type", "\"dpmsolver\"")]
    [InlineData("solver_type", "\"euler\"")]
    [InlineData("solver_order", "4")]
    [InlineData("thresholding", "true")]
    [InlineData("use_exponential_sigmas", "true")]
    [InlineData("use_beta_sigmas", "true")]
    [InlineData("use_lu_lambdas", "true")]
    [InlineData("use_flow_sigmas", "true")]
    [InlineData("final_sigmas_type", "\"denoise_to_zero\"")]
    [InlineData("interpolation_type", "\"log_linear\"")]
    [InlineData("num_train_timesteps", "0")]
    [InlineData("steps_offset", "1.5")]
    [InlineData("beta_start", "\"abc\"")]
    [InlineData("clip_sample", "1")]
    public void Unsupported_values_are_rejected_naming_the_key(string key, string value)
    {
        var ex = Assert.Throws<SchedulerConfigException>(() => SchedulerConfig.Parse($$"""{"_class_name": "DDIMScheduler", "{{key}}": {{value}}}"""));
        Assert.Equal(key, ex.Key);
        Assert.Contains(key, ex.Message);
    }

    [Fact]
    public void Deis_and_the_midpoint_aliases_are_read_as_diffusers_maps_them()
    {
        var config = SchedulerConfig.Parse("""{"_class_name": "DPMSolverMultistepScheduler", "algorithm_type": "deis", "solver_type": "logrho"}""");
        var settings = SchedulerSettings.Resolve(SchedulerType.DpmSolverMultistep, config, SchedulerOverrides.None);
        Assert.False(settings.SolverHeun);
        Assert.Equal(4, Factory.Create(config, SchedulerOverrides.None, 4).Timesteps.Count);
    }

    [Theory]
    [InlineData(SchedulerType.Ddim)]
    [InlineData(SchedulerType.Pndm)]
    [InlineData(SchedulerType.EulerAncestral)]
    [InlineData(SchedulerType.Lcm)]
    public void Karras_sigmas_on_a_class_without_them_are_rejected(SchedulerType type)
    {
        var ex = Assert.Throws<SchedulerOptionException>(() =>
            Factory.Create(SchedulerConfig.Parse(Sd15), new SchedulerOverrides(type, UseKarrasSigmas: true), 4));
        Assert.Equal("scheduler.use_karras_sigmas", ex.Field);
    }

    [Theory]
    [InlineData(SchedulerType.Lms)]
    [InlineData(SchedulerType.Euler)]
    [InlineData(SchedulerType.DpmSolverMultistep)]
    public void Karras_sigmas_are_accepted_where_diffusers_has_them(SchedulerType type)
    {
        var resolved = Factory.Resolve(SchedulerConfig.Parse(Sd15), new SchedulerOverrides(type, UseKarrasSigmas: true));
        Assert.True(resolved.UseKarrasSigmas);
    }

    [Fact]
    public void Eta_applies_to_DDIM_only_and_within_0_to_1()
    {
        var config = SchedulerConfig.Parse(Sd15);
        Assert.Equal("scheduler.eta", Assert.Throws<SchedulerOptionException>(() => Factory.Create(config, new SchedulerOverrides(SchedulerType.Lcm, Eta: 0.5f), 4)).Field);
        Assert.Equal("scheduler.eta", Assert.Throws<SchedulerOptionException>(() => Factory.Create(config, new SchedulerOverrides(SchedulerType.Ddim, Eta: 1.5f), 4)).Field);
        Assert.Equal(0.5f, Factory.Resolve(config, new SchedulerOverrides(SchedulerType.Ddim, Eta: 0.5f)).Eta);
    }

    [Fact]
    public void Step_counts_are_checked()
    {
        var config = SchedulerConfig.Parse("""{"_class_name": "LCMScheduler", "original_inference_steps": 8}""");
        Assert.Equal(8, Factory.Create(config, SchedulerOverrides.None, 8).Timesteps.Count);
        Assert.Equal("steps", Assert.Throws<SchedulerOptionException>(() => Factory.Create(config, SchedulerOverrides.None, 9)).Field);
        Assert.Equal("steps", Assert.Throws<SchedulerOptionException>(() => Factory.Create(config, SchedulerOverrides.None, 0)).Field);
        Assert.Equal("steps", Assert.Throws<SchedulerOptionException>(() => Factory.Create(SchedulerConfig.Parse(Sd15), SchedulerOverrides.None, 1001)).Field);
        Assert.Equal("original_inference_steps", Assert.Throws<SchedulerConfigException>(() =>
            SchedulerConfig.Parse("""{"_class_name": "LCMScheduler", "original_inference_steps": 2000}""")).Key);
        var learned = SchedulerConfig.Parse("""{"_class_name": "DPMSolverMultistepScheduler", "variance_type": "learned_range"}""");
        Assert.Equal("scheduler.kind", Assert.Throws<SchedulerOptionException>(() => Factory.Create(learned, SchedulerOverrides.None, 4)).Field);
        Assert.Equal(4, Factory.Create(learned, new SchedulerOverrides(SchedulerType.Euler), 4).Timesteps.Count);
    }
}
