using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGrpc.Core.Onnx;

/// <summary>
/// A tensor of one of the element types the models use (float32, float16, int32, int64), backed by a
/// managed array that ONNX Runtime reads or writes in place through an <see cref="OrtValue"/>. Created
/// once per request and reused every step, so the loop allocates no big buffers.
/// </summary>
internal sealed class OrtTensorBuffer : IDisposable
{
    private readonly Array _storage;

    private OrtTensorBuffer(TensorElementType elementType, long[] shape, Array storage, OrtValue value)
    {
        ElementType = elementType;
        Shape = shape;
        _storage = storage;
        Value = value;
    }

    /// <summary>The element type.</summary>
    public TensorElementType ElementType { get; }

    /// <summary>The shape (empty for a scalar).</summary>
    public long[] Shape { get; }

    /// <summary>The ONNX Runtime view of the buffer.</summary>
    public OrtValue Value { get; }

    /// <summary>Number of elements.</summary>
    public int Length => _storage.Length;

    /// <summary>Allocates a zeroed buffer of <paramref name="shape"/>.</summary>
    public static OrtTensorBuffer Allocate(TensorElementType elementType, long[] shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            count *= d;
        }
        int n = checked((int)count);
        return elementType switch
        {
            TensorElementType.Float => Wrap(new float[n]),
            TensorElementType.Float16 => Wrap(new Float16[n]),
            TensorElementType.Int32 => Wrap(new int[n]),
            TensorElementType.Int64 => Wrap(new long[n]),
            TensorElementType.Double => Wrap(new double[n]),
            _ => throw new NotSupportedException($"Tensor element type {elementType} is not supported (float32, float16, int32, int64, double are)."),
        };

        OrtTensorBuffer Wrap<T>(T[] array) where T : unmanaged =>
            new(elementType, shape, array, OrtValue.CreateTensorValueFromMemory(array, shape));
    }

    /// <summary>Writes <paramref name="source"/> converted to the element type.</summary>
    public void Write(ReadOnlySpan<float> source)
    {
        switch (_storage)
        {
            case float[] f:
                source.CopyTo(f);
                break;
            case Float16[] h:
                TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<Float16, Half>(h.AsSpan()));
                break;
            case double[] d:
                for (int i = 0; i < source.Length; i++)
                {
                    d[i] = source[i];
                }
                break;
            default:
                throw new InvalidOperationException($"A {ElementType} tensor cannot take float values.");
        }
    }

    /// <summary>Fills every element with <paramref name="value"/>, cast as numpy casts it (int64 truncates toward zero).</summary>
    public void Fill(double value)
    {
        switch (_storage)
        {
            case float[] f:
                f.AsSpan().Fill((float)value);
                break;
            case Float16[] h:
                // np.array([t], np.float16) rounds the double once (no detour through float32).
                MemoryMarshal.Cast<Float16, Half>(h.AsSpan()).Fill((Half)value);
                break;
            case double[] d:
                d.AsSpan().Fill(value);
                break;
            case long[] l:
                l.AsSpan().Fill((long)value);
                break;
            case int[] i:
                i.AsSpan().Fill((int)value);
                break;
        }
    }

    /// <summary>Writes integer ids (input_ids), narrowing to int32 where the model takes int32.</summary>
    public void Write(ReadOnlySpan<long> source)
    {
        switch (_storage)
        {
            case long[] l:
                source.CopyTo(l);
                break;
            case int[] i:
                for (int k = 0; k < source.Length; k++)
                {
                    i[k] = checked((int)source[k]);
                }
                break;
            default:
                throw new InvalidOperationException($"A {ElementType} tensor cannot take integer ids.");
        }
    }

    /// <summary>Reads the buffer as float32 into <paramref name="destination"/>.</summary>
    public void Read(Span<float> destination)
    {
        switch (_storage)
        {
            case float[] f:
                f.AsSpan(0, destination.Length).CopyTo(destination);
                break;
            case Float16[] h:
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<Float16, Half>(h.AsSpan(0, destination.Length)), destination);
                break;
            case double[] d:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)d[i];
                }
                break;
            default:
                throw new InvalidOperationException($"A {ElementType} tensor cannot be read as float.");
        }
    }

    /// <summary>The float32 storage when the element type is float32, so callers can skip a copy.</summary>
    public float[]? AsFloatArray() => _storage as float[];

    /// <inheritdoc />
    public void Dispose() => Value.Dispose();
}
