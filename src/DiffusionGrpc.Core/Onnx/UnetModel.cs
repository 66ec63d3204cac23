using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGrpc.Core.Onnx;

/// <summary>
/// The conditional UNet: <c>sample [N, C, h, w]</c>, <c>timestep</c> (float32/float16/int64 of shape
/// [], [1] or [N]), <c>encoder_hidden_states [N, L, D]</c> and, for LCM models, <c>timestep_cond [N, E]</c>,
/// to <c>out_sample [N, C, h, w]</c>. Element types and the timestep's shape come from the session.
/// </summary>
public sealed class UnetModel : IDisposable
{
    private readonly InferenceSession _session;

    /// <summary>Wraps a session; element types come from its metadata.</summary>
    public UnetModel(InferenceSession session)
    {
        _session = session;
        var inputs = session.InputMetadata;
        Sample = TensorSignature.From(inputs, "sample", "unet").Expect("unet", TensorElementType.Float, TensorElementType.Float16);
        Timestep = TensorSignature.From(inputs, "timestep", "unet")
            .Expect("unet", TensorElementType.Float, TensorElementType.Float16, TensorElementType.Int64, TensorElementType.Int32, TensorElementType.Double);
        EncoderHiddenStates = TensorSignature.From(inputs, "encoder_hidden_states", "unet").Expect("unet", TensorElementType.Float, TensorElementType.Float16);
        TimestepCond = TensorSignature.TryFrom(inputs, "timestep_cond")?.Expect("unet", TensorElementType.Float, TensorElementType.Float16);
        Output = TensorSignature.From(session.OutputMetadata, session.OutputMetadata.ContainsKey("out_sample") ? "out_sample" : null, "unet")
            .Expect("unet", TensorElementType.Float, TensorElementType.Float16);
        if (Timestep.Rank > 1)
        {
            throw new InvalidDataException($"unet: timestep has rank {Timestep.Rank}; supported shapes are [], [1] and [batch].");
        }
        if (TimestepCond is not null && (TimestepCond.Rank != 2 || TimestepCond.Dimensions[1] <= 0))
        {
            throw new InvalidDataException("unet: timestep_cond must be [batch, E] with a fixed E.");
        }
    }

    /// <summary>The <c>sample</c> input.</summary>
    public TensorSignature Sample { get; }

    /// <summary>The <c>timestep</c> input.</summary>
    public TensorSignature Timestep { get; }

    /// <summary>The <c>encoder_hidden_states</c> input.</summary>
    public TensorSignature EncoderHiddenStates { get; }

    /// <summary>The optional <c>timestep_cond</c> input (LCM's guidance embedding).</summary>
    public TensorSignature? TimestepCond { get; }

    /// <summary>The output.</summary>
    public TensorSignature Output { get; }

    /// <summary>Latent channels C (4 when the graph leaves it symbolic).</summary>
    public int LatentChannels => Sample.Rank == 4 && Sample.Dimensions[1] > 0 ? Sample.Dimensions[1] : 4;

    /// <summary>Size E of the guidance embedding, or 0 when the UNet takes none.</summary>
    public int TimestepCondSize => TimestepCond?.Dimensions[1] ?? 0;

    /// <summary>Allocates the buffers of one request's loop; they are reused every step.</summary>
    /// <param name="batch">UNet batch N (2B under classifier-free guidance).</param>
    /// <param name="channels">Latent channels C.</param>
    /// <param name="height">Latent height h.</param>
    /// <param name="width">Latent width w.</param>
    /// <param name="sequenceLength">Text length L.</param>
    /// <param name="hidden">Text hidden size D.</param>
    public UnetInvocation CreateInvocation(int batch, int channels, int height, int width, int sequenceLength, int hidden) =>
        new(_session, this, batch, channels, height, width, sequenceLength, hidden);

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}

/// <summary>
/// The inputs and output of one request's UNet loop, bound once to ONNX Runtime values: each step writes
/// the scaled latents and the timestep and runs, with no new buffers.
/// </summary>
public sealed class UnetInvocation : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtTensorBuffer _sample;
    private readonly OrtTensorBuffer _timestep;
    private readonly OrtTensorBuffer _encoderHiddenStates;
    private readonly OrtTensorBuffer? _timestepCond;
    private readonly OrtTensorBuffer _output;
    private readonly float[] _sampleStaging;
    private readonly float[] _outputStaging;
    private readonly string[] _inputNames;
    private readonly OrtValue[] _inputValues;
    private readonly string[] _outputNames;
    private readonly OrtValue[] _outputValues;

    internal UnetInvocation(InferenceSession session, UnetModel model, int batch, int channels, int height, int width, int sequenceLength, int hidden)
    {
        _session = session;
        long[] latentShape = [batch, channels, height, width];
        _sample = OrtTensorBuffer.Allocate(model.Sample.ElementType, latentShape);
        long[] timestepShape = model.Timestep.Rank == 0 ? [] : model.Timestep.Dimensions[0] == 1 ? [1] : [batch];
        _timestep = OrtTensorBuffer.Allocate(model.Timestep.ElementType, timestepShape);
        _encoderHiddenStates = OrtTensorBuffer.Allocate(model.EncoderHiddenStates.ElementType, [batch, sequenceLength, hidden]);
        _output = OrtTensorBuffer.Allocate(model.Output.ElementType, latentShape);
        _sampleStaging = _sample.AsFloatArray() ?? new float[_sample.Length];
        _outputStaging = _output.AsFloatArray() ?? new float[_output.Length];

        var names = new List<string> { model.Sample.Name, model.Timestep.Name, model.EncoderHiddenStates.Name };
        var values = new List<OrtValue> { _sample.Value, _timestep.Value, _encoderHiddenStates.Value };
        if (model.TimestepCond is not null)
        {
            _timestepCond = OrtTensorBuffer.Allocate(model.TimestepCond.ElementType, [batch, model.TimestepCondSize]);
            names.Add(model.TimestepCond.Name);
            values.Add(_timestepCond.Value);
        }
        _inputNames = names.ToArray();
        _inputValues = values.ToArray();
        _outputNames = [model.Output.Name];
        _outputValues = [_output.Value];
    }

    /// <summary>The model input <c>sample</c> as float32, written by the caller before <see cref="Run"/>.</summary>
    public Span<float> Sample => _sampleStaging;

    /// <summary>Sets <c>encoder_hidden_states</c> (constant over the loop).</summary>
    public void SetEncoderHiddenStates(ReadOnlySpan<float> values) => _encoderHiddenStates.Write(values);

    /// <summary>Sets <c>timestep_cond</c> (constant over the loop); ignored by UNets without it.</summary>
    public void SetTimestepCond(ReadOnlySpan<float> values) => _timestepCond?.Write(values);

    /// <summary>
    /// Runs the UNet at <paramref name="timestep"/> (cast as <c>np.array([t], dtype)</c>: int64 truncates),
    /// and returns its output as float32, valid until the next run.
    /// </summary>
    public ReadOnlySpan<float> Run(double timestep, RunOptions runOptions)
    {
        if (!ReferenceEquals(_sampleStaging, _sample.AsFloatArray()))
        {
            _sample.Write(_sampleStaging);
        }
        _timestep.Fill(timestep);
        _session.Run(runOptions, _inputNames, _inputValues, _outputNames, _outputValues);
        if (!ReferenceEquals(_outputStaging, _output.AsFloatArray()))
        {
            _output.Read(_outputStaging);
        }
        return _outputStaging;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _sample.Dispose();
        _timestep.Dispose();
        _encoderHiddenStates.Dispose();
        _timestepCond?.Dispose();
        _output.Dispose();
    }
}
