using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionGrpc.Core.Tests.Models;

/// <summary>
/// The shipped models' ONNX files give what the PyTorch models gave at export: every
/// <c>TestData/tiny-shapes/*.json</c> written by <c>models/tools/export_model.py</c> holds inputs and PyTorch
/// outputs for the text encoder, the UNet and the VAE decoder of one model folder under <c>models/</c>.
/// </summary>
public sealed class ExportedModelTests
{
    private static readonly string DataFolder = Path.Combine(AppContext.BaseDirectory, "TestData", "tiny-shapes");

    /// <summary>The models that have an export check (file names without extension).</summary>
    public static TheoryData<string> ExportChecks() => new(CheckedModels());

    [Fact]
    public void The_default_model_has_an_export_check()
    {
        Assert.Contains("tiny-shapes", CheckedModels());
    }

    private static string[] CheckedModels() =>
        Directory.Exists(DataFolder)
            ? Directory.GetFiles(DataFolder, "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal).ToArray()
            : [];

    [Theory]
    [MemberData(nameof(ExportChecks))]
    public void Onnx_runtime_matches_pytorch(string model)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(DataFolder, model + ".json")));
        var root = json.RootElement;
        float tolerance = root.GetProperty("tolerance").GetSingle();
        string folder = Path.Combine(RepositoryRoot(), "models", root.GetProperty("model").GetString()!);

        var ids = root.GetProperty("input_ids").EnumerateArray().SelectMany(row => row.EnumerateArray().Select(x => x.GetInt64())).ToArray();
        int batch = root.GetProperty("input_ids").GetArrayLength();
        var expectedStates = Floats(root, "last_hidden_state");
        float[] states;
        using (var text = new InferenceSession(Path.Combine(folder, "text_encoder", "model.onnx")))
        {
            states = Run(text, ("input_ids", OrtValue.CreateTensorValueFromMemory(ids, [batch, ids.Length / batch])));
        }
        AssertClose(expectedStates, states, tolerance, "last_hidden_state");

        var sample = Floats(root, "sample");
        float timestep = root.GetProperty("timestep").GetSingle();
        long[] sampleShape = [batch, 4, 8, 8];
        using (var unet = new InferenceSession(Path.Combine(folder, "unet", "model.onnx")))
        {
            var output = Run(unet,
                ("sample", OrtValue.CreateTensorValueFromMemory(sample, sampleShape)),
                ("timestep", OrtValue.CreateTensorValueFromMemory(new[] { timestep }, [1])),
                ("encoder_hidden_states", OrtValue.CreateTensorValueFromMemory(expectedStates, [batch, 77, expectedStates.Length / batch / 77])));
            AssertClose(Floats(root, "out_sample"), output, tolerance, "out_sample");
        }

        var latent = Floats(root, "latent_sample");
        using (var vae = new InferenceSession(Path.Combine(folder, "vae_decoder", "model.onnx")))
        {
            var decoded = Run(vae, ("latent_sample", OrtValue.CreateTensorValueFromMemory(latent, [1, 4, 8, 8])));
            AssertClose(Floats(root, "decoded"), decoded, tolerance, "decoded");
        }
    }

    private static float[] Run(InferenceSession session, params (string Name, OrtValue Value)[] inputs)
    {
        try
        {
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), inputs.Select(i => i.Value).ToArray(), session.OutputNames);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
        finally
        {
            foreach (var input in inputs)
            {
                input.Value.Dispose();
            }
        }
    }

    private static float[] Floats(JsonElement root, string name)
    {
        var bytes = Convert.FromBase64String(root.GetProperty(name).GetString()!);
        var values = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]) / Math.Max(1.0, Math.Abs(expected[i])));
        }
        Assert.True(worst <= tolerance, $"{what}: worst difference {worst:E2} exceeds {tolerance:E2}");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DiffusionGrpc.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("DiffusionGrpc.sln not found above the test binaries.");
    }
}
