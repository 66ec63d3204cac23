using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using DiffusionGrpc.Core.Noise;
using DiffusionGrpc.Core.Onnx;
using DiffusionGrpc.Core.Schedulers;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionGrpc.Core.Pipeline;

/// <summary>
/// The denoising loop of diffusers' StableDiffusionPipeline: seeded latents times
/// <c>init_noise_sigma</c>, then per timestep <c>scale_model_input</c>, one UNet run (2B rows under
/// classifier-free guidance, <c>uncond + g · (text − uncond)</c>; LCM UNets take the guidance embedding
/// instead) and <c>scheduler.step</c>. Every buffer is allocated once, before the first step.
/// </summary>
public sealed class DenoiseLoop : IDisposable
{
    private readonly IScheduler _scheduler;
    private readonly INoiseSource _noise;
    private readonly UnetInvocation _unet;
    private readonly float[] _latents;
    private readonly float[] _predictedOriginal;
    private readonly float[] _noisePrediction;
    private readonly int _imageSize;
    private readonly float _guidanceScale;
    private readonly bool _guided;
    private bool _initialized;

    /// <summary>Prepares a loop: binds the UNet buffers and the text conditioning.</summary>
    public DenoiseLoop(UnetModel unet, IScheduler scheduler, INoiseSource noise, DenoiseInputs inputs)
    {
        if (noise.BatchSize != inputs.BatchSize)
        {
            throw new ArgumentException($"The noise source has {noise.BatchSize} generators for a batch of {inputs.BatchSize}.");
        }
        _scheduler = scheduler;
        _noise = noise;
        BatchSize = inputs.BatchSize;
        Channels = unet.LatentChannels;
        LatentHeight = inputs.LatentHeight;
        LatentWidth = inputs.LatentWidth;
        _imageSize = Channels * LatentHeight * LatentWidth;
        _guidanceScale = inputs.GuidanceScale;
        UsesGuidanceEmbedding = unet.TimestepCondSize > 0;
        _guided = !UsesGuidanceEmbedding && inputs.UncondEmbeddings is not null && inputs.GuidanceScale > 1f;
        int unetBatch = _guided ? 2 * BatchSize : BatchSize;

        _latents = new float[BatchSize * _imageSize];
        _predictedOriginal = new float[BatchSize * _imageSize];
        _noisePrediction = new float[BatchSize * _imageSize];
        _unet = unet.CreateInvocation(unetBatch, Channels, LatentHeight, LatentWidth, inputs.SequenceLength, inputs.HiddenSize);
        try
        {
            SetConditioning(inputs, unet.TimestepCondSize);
        }
        catch
        {
            _unet.Dispose();
            throw;
        }
    }

    /// <summary>Number of images B.</summary>
    public int BatchSize { get; }

    /// <summary>Latent channels C.</summary>
    public int Channels { get; }

    /// <summary>Latent height h.</summary>
    public int LatentHeight { get; }

    /// <summary>Latent width w.</summary>
    public int LatentWidth { get; }

    /// <summary>True when the UNet runs classifier-free guidance as a batch of 2B.</summary>
    public bool IsGuided => _guided;

    /// <summary>True when the UNet takes LCM's guidance embedding (<c>timestep_cond</c>).</summary>
    public bool UsesGuidanceEmbedding { get; }

    /// <summary>Number of UNet evaluations of the loop.</summary>
    public int TotalSteps => _scheduler.Timesteps.Count;

    /// <summary>The current latents x_t <c>[B, C, h, w]</c> (after the last finished step).</summary>
    public ReadOnlyMemory<float> Latents => _latents;

    /// <summary>The scheduler's prediction of x0 at the last finished step <c>[B, C, h, w]</c>.</summary>
    public ReadOnlyMemory<float> PredictedOriginal => _predictedOriginal;

    /// <summary>Elements of one image's latents (C · h · w).</summary>
    public int ImageLatentSize => _imageSize;

    /// <summary>
    /// Runs the loop, yielding after each UNet evaluation. The buffers <see cref="Latents"/> and
    /// <see cref="PredictedOriginal"/> hold that step's state until the enumeration continues.
    /// Cancellation aborts a running UNet evaluation (ONNX Runtime's terminate flag) and stops before the next.
    /// </summary>
    public async IAsyncEnumerable<DenoiseStep> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var runOptions = new RunOptions();
        using var registration = cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, runOptions);
        if (!_initialized)
        {
            _noise.FillStandardNormal(_latents);
            TensorPrimitives.Multiply(_latents, (float)_scheduler.InitNoiseSigma, _latents);
            _initialized = true;
        }
        var timesteps = _scheduler.Timesteps;
        for (int i = 0; i < timesteps.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int index = i;
            try
            {
                await Task.Run(() => Step(index, runOptions), cancellationToken).ConfigureAwait(false);
            }
            catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            yield return new DenoiseStep(i + 1, timesteps.Count, timesteps[i]);
        }
    }

    /// <summary>Runs step <paramref name="index"/> synchronously.</summary>
    private void Step(int index, RunOptions runOptions)
    {
        double t = _scheduler.Timesteps[index];
        float scale = (float)_scheduler.ModelInputScale(index);
        var sample = _unet.Sample;
        var first = sample[.._latents.Length];
        TensorPrimitives.Multiply(_latents, scale, first);
        if (_guided)
        {
            first.CopyTo(sample[_latents.Length..]);
        }

        var output = _unet.Run(t, runOptions);
        if (_guided)
        {
            // diffusers' order: the uncond half first, then the text half; float32 arithmetic in its order.
            var uncond = output[.._latents.Length];
            var text = output.Slice(_latents.Length, _latents.Length);
            TensorPrimitives.Subtract(text, uncond, _noisePrediction);
            TensorPrimitives.Multiply(_noisePrediction, _guidanceScale, _noisePrediction);
            TensorPrimitives.Add(uncond, _noisePrediction, _noisePrediction);
        }
        else
        {
            output[.._latents.Length].CopyTo(_noisePrediction);
        }
        _scheduler.Step(index, _noisePrediction, _latents, _predictedOriginal, _noise);
    }

    private void SetConditioning(DenoiseInputs inputs, int timestepCondSize)
    {
        int rowSize = inputs.SequenceLength * inputs.HiddenSize;
        var text = inputs.TextEmbeddings.Span;
        if (text.Length != BatchSize * rowSize)
        {
            throw new ArgumentException($"Text embeddings have {text.Length} values, expected {BatchSize}x{inputs.SequenceLength}x{inputs.HiddenSize}.");
        }
        if (!_guided)
        {
            _unet.SetEncoderHiddenStates(text);
        }
        else
        {
            var uncond = inputs.UncondEmbeddings!.Value.Span;
            if (uncond.Length != inputs.UncondRows * rowSize || (inputs.UncondRows != 1 && inputs.UncondRows != BatchSize))
            {
                throw new ArgumentException($"Unconditional embeddings must be [1 or {BatchSize}, {inputs.SequenceLength}, {inputs.HiddenSize}].");
            }
            var states = new float[2 * BatchSize * rowSize];
            for (int b = 0; b < BatchSize; b++)
            {
                uncond.Slice(inputs.UncondRows == 1 ? 0 : b * rowSize, rowSize).CopyTo(states.AsSpan(b * rowSize, rowSize));
            }
            text.CopyTo(states.AsSpan(BatchSize * rowSize));
            _unet.SetEncoderHiddenStates(states);
        }
        if (timestepCondSize > 0)
        {
            var cond = new float[BatchSize * timestepCondSize];
            GuidanceEmbedding.Fill(inputs.GuidanceScale, BatchSize, timestepCondSize, cond);
            _unet.SetTimestepCond(cond);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _unet.Dispose();
}

/// <summary>A finished step of a <see cref="DenoiseLoop"/>.</summary>
/// <param name="Step">1-based index of the step.</param>
/// <param name="TotalSteps">Number of steps of the loop.</param>
/// <param name="Timestep">The scheduler timestep of the step.</param>
public readonly record struct DenoiseStep(int Step, int TotalSteps, double Timestep);
