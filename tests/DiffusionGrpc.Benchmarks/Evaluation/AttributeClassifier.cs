using System.Buffers;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DiffusionGrpc.Evaluation;

/// <summary>An attribute the classifier predicts and its classes, in the order of the output's logits.</summary>
/// <param name="Name">The attribute (and output) name, e.g. <c>shape</c>.</param>
/// <param name="Classes">Class names, index = logit index.</param>
internal sealed record ClassifiedAttribute(string Name, IReadOnlyList<string> Classes);

/// <summary>
/// The prompt-adherence classifier of <c>models/evaluation/</c>: <c>attribute_classifier.onnx</c> (input
/// <c>image</c>, float32 [B,3,S,S] RGB in [0,1]; one logits output [B,n] per attribute, named after it) and
/// <c>classifier.json</c> (<c>attributes</c>: name → class names in logit order; <c>input_size</c> S, 64 when
/// absent). Encoded images of any size are decoded and resampled to S×S (box filter when shrinking).
/// One ONNX Runtime session on the CPU, run over batches.
/// </summary>
internal sealed class AttributeClassifier : IDisposable
{
    /// <summary>The ONNX file name in the evaluation folder.</summary>
    public const string ModelFileName = "attribute_classifier.onnx";

    /// <summary>The description file name in the evaluation folder.</summary>
    public const string ConfigFileName = "classifier.json";

    private const int MaxBatch = 64;

    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string[] _outputNames;

    private AttributeClassifier(InferenceSession session, string inputName, IReadOnlyList<ClassifiedAttribute> attributes, int imageSize)
    {
        _session = session;
        _inputName = inputName;
        Attributes = attributes;
        ImageSize = imageSize;
        _outputNames = attributes.Select(a => a.Name).ToArray();
    }

    /// <summary>The attributes, in the order of <c>classifier.json</c>.</summary>
    public IReadOnlyList<ClassifiedAttribute> Attributes { get; }

    /// <summary>The side of the square input image, in pixels.</summary>
    public int ImageSize { get; }

    /// <summary>Whether <paramref name="directory"/> holds both classifier files.</summary>
    public static bool Exists(string directory) =>
        File.Exists(Path.Combine(directory, ModelFileName)) && File.Exists(Path.Combine(directory, ConfigFileName));

    /// <summary>Loads the classifier of <paramref name="directory"/> (the evaluation folder).</summary>
    /// <exception cref="FileNotFoundException">A classifier file is missing.</exception>
    /// <exception cref="InvalidDataException">An attribute of <c>classifier.json</c> is not an output of the model.</exception>
    public static AttributeClassifier Load(string directory)
    {
        string modelPath = Path.Combine(directory, ModelFileName);
        string configPath = Path.Combine(directory, ConfigFileName);
        foreach (var path in new[] { modelPath, configPath })
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"The attribute classifier file {path} is missing (models/tools/export_classifier.py writes it).", path);
            }
        }
        using var config = JsonDocument.Parse(File.ReadAllBytes(configPath));
        var root = config.RootElement;
        var attributes = root.GetProperty("attributes").EnumerateObject()
            .Select(p => new ClassifiedAttribute(p.Name, p.Value.EnumerateArray().Select(c => c.GetString() ?? "").ToArray()))
            .ToList();
        int imageSize = root.TryGetProperty("input_size", out var size) ? size.GetInt32() : 64;
        string inputName = root.TryGetProperty("input", out var input) ? input.GetString() ?? "image" : "image";

        using var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        var session = new InferenceSession(modelPath, options);
        try
        {
            foreach (var attribute in attributes)
            {
                if (!session.OutputMetadata.ContainsKey(attribute.Name))
                {
                    throw new InvalidDataException($"{modelPath} has no output '{attribute.Name}' (outputs: {string.Join(", ", session.OutputMetadata.Keys)}).");
                }
            }
            if (!session.InputMetadata.ContainsKey(inputName))
            {
                throw new InvalidDataException($"{modelPath} has no input '{inputName}'.");
            }
            return new AttributeClassifier(session, inputName, attributes, imageSize);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Classifies encoded images (PNG, JPEG, ...): for each image, attribute name → predicted class (arg max of its logits).
    /// </summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Classify(IReadOnlyList<byte[]> encodedImages)
    {
        var predictions = new List<IReadOnlyDictionary<string, string>>(encodedImages.Count);
        int plane = 3 * ImageSize * ImageSize;
        for (int start = 0; start < encodedImages.Count; start += MaxBatch)
        {
            int batch = Math.Min(MaxBatch, encodedImages.Count - start);
            var pixels = new float[batch * plane];
            for (int i = 0; i < batch; i++)
            {
                using var image = Decode(encodedImages[start + i]);
                WriteChw(image, pixels.AsSpan(i * plane, plane));
            }
            using var input = OrtValue.CreateTensorValueFromMemory(pixels, [batch, 3, ImageSize, ImageSize]);
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, [_inputName], [input], _outputNames);
            var batchPredictions = new Dictionary<string, string>[batch];
            for (int i = 0; i < batch; i++)
            {
                batchPredictions[i] = new Dictionary<string, string>(Attributes.Count, StringComparer.Ordinal);
            }
            for (int a = 0; a < Attributes.Count; a++)
            {
                var classes = Attributes[a].Classes;
                ReadOnlySpan<float> logits = outputs[a].GetTensorDataAsSpan<float>();
                if (logits.Length != batch * classes.Count)
                {
                    throw new InvalidDataException($"Output '{Attributes[a].Name}' has {logits.Length} values for {batch} images of {classes.Count} classes.");
                }
                for (int i = 0; i < batch; i++)
                {
                    batchPredictions[i][Attributes[a].Name] = classes[ArgMax(logits.Slice(i * classes.Count, classes.Count))];
                }
            }
            predictions.AddRange(batchPredictions);
        }
        return predictions;
    }

    /// <summary>Decodes an image and resamples it to <see cref="ImageSize"/> square when it is another size.</summary>
    public Image<Rgb24> Decode(byte[] encoded)
    {
        var image = Image.Load<Rgb24>(encoded);
        if (image.Width != ImageSize || image.Height != ImageSize)
        {
            bool shrinking = image.Width >= ImageSize && image.Height >= ImageSize;
            image.Mutate(x => x.Resize(new ResizeOptions
            {
                Size = new Size(ImageSize, ImageSize),
                Mode = ResizeMode.Stretch,
                Sampler = shrinking ? KnownResamplers.Box : KnownResamplers.Bicubic,
            }));
        }
        return image;
    }

    /// <summary>Writes an RGB image as planar float32 (C, H, W) in [0, 1] into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not 3 × width × height long.</exception>
    public static void WriteChw(Image<Rgb24> image, Span<float> destination)
    {
        int count = image.Width * image.Height;
        if (destination.Length != 3 * count)
        {
            throw new ArgumentException($"Expected {3 * count} floats, got {destination.Length}.", nameof(destination));
        }
        var rented = ArrayPool<Rgb24>.Shared.Rent(count);
        try
        {
            Span<Rgb24> pixels = rented.AsSpan(0, count);
            image.CopyPixelDataTo(pixels);
            Span<float> red = destination[..count];
            Span<float> green = destination.Slice(count, count);
            Span<float> blue = destination.Slice(2 * count, count);
            const float scale = 1f / 255f;
            for (int i = 0; i < pixels.Length; i++)
            {
                red[i] = pixels[i].R * scale;
                green[i] = pixels[i].G * scale;
                blue[i] = pixels[i].B * scale;
            }
        }
        finally
        {
            ArrayPool<Rgb24>.Shared.Return(rented);
        }
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }
        return best;
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}
