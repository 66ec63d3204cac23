using DiffusionGrpc.Core.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGrpc.Core.Tests.Onnx;

/// <summary>The UNet timestep cast as diffusers' ONNX pipeline does it: <c>np.array([t], dtype)</c>.</summary>
public sealed class OrtTensorBufferTests
{
    [Theory]
    [InlineData(665.67, 665L)]
    [InlineData(999.99, 999L)]
    [InlineData(199.8000030517578, 199L)]
    [InlineData(-0.5, 0L)]
    [InlineData(0.0, 0L)]
    public void Int64_timesteps_truncate_like_numpy(double timestep, long expected)
    {
        using var buffer = OrtTensorBuffer.Allocate(TensorElementType.Int64, [2]);
        buffer.Fill(timestep);
        Assert.Equal([expected, expected], buffer.Value.GetTensorDataAsSpan<long>().ToArray());
    }

    [Fact]
    public void Float16_timesteps_round_the_double_once_like_numpy()
    {
        // numpy: np.array([1 + 2**-11 + 2**-40], np.float16) == 1.001 (through float32 it would tie to 1.0).
        double timestep = 1 + Math.Pow(2, -11) + Math.Pow(2, -40);
        using var buffer = OrtTensorBuffer.Allocate(TensorElementType.Float16, []);
        buffer.Fill(timestep);
        var value = (float)buffer.Value.GetTensorDataAsSpan<Float16>()[0].ToFloat();
        Assert.Equal(1f + MathF.Pow(2, -10), value);
    }

    [Fact]
    public void Float_timesteps_take_the_float32_value()
    {
        using var buffer = OrtTensorBuffer.Allocate(TensorElementType.Float, [1]);
        buffer.Fill(799.2000122070312);
        Assert.Equal(799.2f, buffer.Value.GetTensorDataAsSpan<float>()[0]);
    }

    [Fact]
    public void Input_ids_narrow_to_int32_and_float16_round_trips()
    {
        using var ids = OrtTensorBuffer.Allocate(TensorElementType.Int32, [3]);
        ids.Write(new long[] { 49406, 320, 49407 });
        Assert.Equal([49406, 320, 49407], ids.Value.GetTensorDataAsSpan<int>().ToArray());

        using var half = OrtTensorBuffer.Allocate(TensorElementType.Float16, [2]);
        half.Write(new[] { 0.5f, -3.25f });
        var back = new float[2];
        half.Read(back);
        Assert.Equal([0.5f, -3.25f], back);
    }
}
