using System.Text.Json;
using System.Text.Json.Nodes;
using DiffusionGrpc.Core.Onnx;
using DiffusionGrpc.Core.Previews;
using DiffusionGrpc.Core.Schedulers;
using DiffusionGrpc.Core.Tokenization;

namespace DiffusionGrpc.Core.Models;

/// <summary>
/// One served model: its configuration, read when the folder is opened, and its ONNX Runtime sessions,
/// created once on first use and shared by every request. A host serving only some roles loads only the
/// parts they need.
/// </summary>
public sealed class DiffusionModel : IDisposable
{
    private readonly Lazy<ClipTokenizer> _tokenizer;
    private readonly Lazy<TextEncoderModel> _textEncoder;
    private readonly Lazy<UnetModel> _unet;
    private readonly Lazy<VaeDecoderModel> _vaeDecoder;

    private DiffusionModel(string id, ModelFiles files, SchedulerConfig schedulerConfig, ModelDefaults defaults, float vaeScalingFactor, LatentRgbPalette palette, OnnxSessionFactory sessions)
    {
        Id = id;
        Files = files;
        SchedulerConfig = schedulerConfig;
        Defaults = defaults;
        VaeScalingFactor = vaeScalingFactor;
        LatentPalette = palette;
        _tokenizer = new(() => ClipTokenizer.Load(files.Tokenizer));
        _textEncoder = new(() => new TextEncoderModel(sessions.Create(files.TextEncoder)));
        _unet = new(() => new UnetModel(sessions.Create(files.Unet)));
        _vaeDecoder = new(() => new VaeDecoderModel(sessions.Create(files.VaeDecoder)));
    }

    /// <summary>The model id (its folder name).</summary>
    public string Id { get; }

    /// <summary>The model's files.</summary>
    public ModelFiles Files { get; }

    /// <summary>The parsed <c>scheduler_config.json</c>.</summary>
    public SchedulerConfig SchedulerConfig { get; }

    /// <summary>Size, steps and guidance used when a request leaves them unset.</summary>
    public ModelDefaults Defaults { get; }

    /// <summary>The VAE scaling factor (latents are divided by it before decoding).</summary>
    public float VaeScalingFactor { get; }

    /// <summary>The latent-to-RGB preview map.</summary>
    public LatentRgbPalette LatentPalette { get; }

    /// <summary>The CLIP tokenizer (loaded on first use).</summary>
    public ClipTokenizer Tokenizer => _tokenizer.Value;

    /// <summary>The text encoder session (created on first use).</summary>
    public TextEncoderModel TextEncoder => _textEncoder.Value;

    /// <summary>The UNet session (created on first use).</summary>
    public UnetModel Unet => _unet.Value;

    /// <summary>The VAE decoder session (created on first use).</summary>
    public VaeDecoderModel VaeDecoder => _vaeDecoder.Value;

    /// <summary>
    /// Opens the model folder <paramref name="root"/>: reads its configs (failing with
    /// <see cref="InvalidDataException"/> or <see cref="SchedulerConfigException"/> on unsupported values);
    /// sessions are created lazily.
    /// </summary>
    public static DiffusionModel Open(string id, string root, OnnxSessionFactory sessions)
    {
        var files = new ModelFiles(root);
        var scheduler = SchedulerConfig.Load(files.SchedulerConfig);

        var unetConfig = ReadJsonObject(files.UnetConfig);
        int sampleSize = unetConfig?["sample_size"] is JsonValue s && s.TryGetValue(out int size) ? size : 64;
        var vaeConfig = ReadJsonObject(files.VaeDecoderConfig);
        float scaling = vaeConfig?["scaling_factor"] is JsonValue f && f.TryGetValue(out double factor) ? (float)factor : 0.18215f;
        if (!(scaling > 0) || float.IsInfinity(scaling))
        {
            throw new InvalidDataException($"{files.VaeDecoderConfig}: scaling_factor must be a positive number.");
        }

        var project = ReadJsonObject(files.ProjectDefaults);
        var defaults = new ModelDefaults(
            ReadInt(project, "default_width") ?? sampleSize * 8,
            ReadInt(project, "default_height") ?? sampleSize * 8,
            ReadInt(project, "default_steps") ?? ModelDefaults.StableDiffusion.Steps,
            (float?)ReadDouble(project, "default_guidance_scale") ?? ModelDefaults.StableDiffusion.GuidanceScale);
        var palette = project?["latent_rgb"] is JsonObject rgb ? ReadPalette(rgb, files.ProjectDefaults) : LatentRgbPalette.StableDiffusion1;
        return new DiffusionModel(id, files, scheduler, defaults, scaling, palette, sessions);
    }

    /// <summary>Creates the sessions a role needs now rather than on its first request.</summary>
    public void Warm(bool textEncoder, bool unet, bool vaeDecoder)
    {
        if (textEncoder)
        {
            _ = Tokenizer;
            _ = TextEncoder;
        }
        if (unet)
        {
            _ = Unet;
        }
        if (vaeDecoder)
        {
            _ = VaeDecoder;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_textEncoder.IsValueCreated)
        {
            _textEncoder.Value.Dispose();
        }
        if (_unet.IsValueCreated)
        {
            _unet.Value.Dispose();
        }
        if (_vaeDecoder.IsValueCreated)
        {
            _vaeDecoder.Value.Dispose();
        }
    }

    private static JsonObject? ReadJsonObject(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new InvalidDataException($"{path}: expected a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
    }

    private static int? ReadInt(JsonObject? json, string key) =>
        json?[key] is JsonValue v && v.TryGetValue(out int i) ? i : null;

    private static double? ReadDouble(JsonObject? json, string key) =>
        json?[key] is JsonValue v && v.TryGetValue(out double d) ? d : null;

    private static LatentRgbPalette ReadPalette(JsonObject rgb, string path)
    {
        try
        {
            var factors = rgb["factors"]!.AsArray().Select(row => (IReadOnlyList<float>)row!.AsArray().Select(x => x!.GetValue<float>()).ToArray()).ToArray();
            var bias = rgb["bias"] is JsonArray b ? b.Select(x => x!.GetValue<float>()).ToArray() : [0f, 0f, 0f];
            return new LatentRgbPalette(factors, bias);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or NullReferenceException or FormatException)
        {
            throw new InvalidDataException($"{path}: latent_rgb must be {{\"factors\": [[r, g, b], ...], \"bias\": [r, g, b]}}: {ex.Message}", ex);
        }
    }
}
