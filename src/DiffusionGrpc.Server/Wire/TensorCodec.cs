using System.Numerics.Tensors;
using Tensor = DiffusionGrpc.Contracts.V1.Tensor;
using System.Runtime.InteropServices;
using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Server.Validation;
using Google.Protobuf;

namespace DiffusionGrpc.Server.Wire;

/// <summary>Wire tensors (<c>diffusion.v1.Tensor</c>) to float32 arrays and back, checking shapes and sizes.</summary>
public static class TensorCodec
{
    /// <summary>
    /// Reads a FLOAT32 or FLOAT16 tensor as float32, after checking its dtype, that every dimension is
    /// positive and that <c>data</c> holds exactly <c>prod(shape) * sizeof(dtype)</c> bytes.
    /// </summary>
    /// <exception cref="Grpc.Core.RpcException">INVALID_ARGUMENT naming <paramref name="field"/>.</exception>
    public static float[] ReadFloats(Tensor tensor, string field)
    {
        int elementSize = tensor.Dtype switch
        {
            DataType.Float32 => 4,
            DataType.Float16 => 2,
            _ => throw RpcErrors.InvalidArgument($"{field}.dtype", $"must be FLOAT32 or FLOAT16, got {tensor.Dtype}"),
        };
        long count = 1;
        foreach (var d in tensor.Shape)
        {
            if (d < 1)
            {
                throw RpcErrors.InvalidArgument($"{field}.shape", $"every dimension must be >= 1, got [{string.Join(", ", tensor.Shape)}]");
            }
            count = checked(count * d);
            if (count > int.MaxValue / 4)
            {
                throw RpcErrors.InvalidArgument($"{field}.shape", $"too many elements: [{string.Join(", ", tensor.Shape)}]");
            }
        }
        if (tensor.Data.Length != count * elementSize)
        {
            throw RpcErrors.InvalidArgument($"{field}.data",
                $"must be exactly prod(shape) * {elementSize} = {count * elementSize} bytes for shape [{string.Join(", ", tensor.Shape)}] {tensor.Dtype}, got {tensor.Data.Length}");
        }
        var result = new float[count];
        var bytes = tensor.Data.Span;
        if (tensor.Dtype == DataType.Float32)
        {
            MemoryMarshal.Cast<byte, float>(bytes).CopyTo(result);
        }
        else
        {
            TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(bytes), result);
        }
        return result;
    }

    /// <summary>A FLOAT32 tensor of <paramref name="shape"/> holding a copy of <paramref name="values"/>.</summary>
    public static Tensor FromFloats(ReadOnlySpan<float> values, params ReadOnlySpan<long> shape)
    {
        var tensor = new Tensor { Dtype = DataType.Float32, Data = ByteString.CopyFrom(MemoryMarshal.AsBytes(values)) };
        foreach (var d in shape)
        {
            tensor.Shape.Add(d);
        }
        return tensor;
    }
}
