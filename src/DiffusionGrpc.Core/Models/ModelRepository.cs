using System.Collections.Concurrent;
using DiffusionGrpc.Core.Onnx;
using Microsoft.Extensions.Logging;

namespace DiffusionGrpc.Core.Models;

/// <summary>
/// The models root: every sub-folder with a <c>model_index.json</c> is a model whose id is the folder
/// name. Models are opened once and shared; an id that is not a plain folder name of the root is never
/// resolved, so a request cannot reach outside it.
/// </summary>
public sealed class ModelRepository : IDisposable
{
    private readonly OnnxSessionFactory _sessions;
    private readonly ILogger _logger;
    private readonly string? _configuredDefault;
    private readonly ConcurrentDictionary<string, Lazy<DiffusionModel>> _models = new(StringComparer.Ordinal);

    /// <summary>Creates a repository over <paramref name="root"/>.</summary>
    /// <param name="root">The models root folder.</param>
    /// <param name="sessions">Creates the ONNX Runtime sessions.</param>
    /// <param name="logger">Logs model loading.</param>
    /// <param name="defaultModelId">The default model id (<c>Diffusion:DefaultModel</c>), or null.</param>
    public ModelRepository(string root, OnnxSessionFactory sessions, ILogger logger, string? defaultModelId = null)
    {
        Root = Path.GetFullPath(root);
        _sessions = sessions;
        _logger = logger;
        _configuredDefault = string.IsNullOrEmpty(defaultModelId) ? null : defaultModelId;
    }

    /// <summary>The models root, absolute.</summary>
    public string Root { get; }

    /// <summary>The ids of the models of the root, sorted ordinally.</summary>
    public IReadOnlyList<string> ListIds()
    {
        if (!Directory.Exists(Root))
        {
            return [];
        }
        var ids = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            if (File.Exists(Path.Combine(dir, "model_index.json")))
            {
                ids.Add(Path.GetFileName(dir));
            }
        }
        ids.Sort(StringComparer.Ordinal);
        return ids;
    }

    /// <summary>The default model: the configured one, else the only one, else the first by id; null when the root is empty.</summary>
    public string? DefaultId => _configuredDefault ?? ListIds().FirstOrDefault();

    /// <summary>True when <paramref name="id"/> names a model folder of the root.</summary>
    public bool Exists(string id) => IsPlainFolderName(id) && File.Exists(Path.Combine(Root, id, "model_index.json"));

    /// <summary>
    /// Resolves <paramref name="id"/> (empty = the default model) to its opened model, or null when there is
    /// no such model. Opening failures (bad configs) throw.
    /// </summary>
    public DiffusionModel? Find(string? id)
    {
        string? resolved = string.IsNullOrEmpty(id) ? DefaultId : id;
        if (resolved is null || !Exists(resolved))
        {
            return null;
        }
        var lazy = _models.GetOrAdd(resolved, key => new Lazy<DiffusionModel>(() =>
        {
            _logger.LogInformation("Opening model {Model} from {Path}", key, Path.Combine(Root, key));
            return DiffusionModel.Open(key, Path.Combine(Root, key), _sessions);
        }));
        try
        {
            return lazy.Value;
        }
        catch
        {
            // Do not cache a failed open: the folder may be fixed while the host runs.
            _models.TryRemove(new KeyValuePair<string, Lazy<DiffusionModel>>(resolved, lazy));
            throw;
        }
    }

    /// <summary>True for a single path segment that is not <c>.</c>/<c>..</c> and has no separators or invalid characters.</summary>
    public static bool IsPlainFolderName(string id) =>
        id.Length is > 0 and <= 255
        && id != "." && id != ".."
        && id.IndexOfAny(['/', '\\', '\0', ':']) < 0
        && id.IndexOfAny(Path.GetInvalidFileNameChars()) < 0
        && id.Trim() == id;

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var lazy in _models.Values)
        {
            if (lazy.IsValueCreated)
            {
                lazy.Value.Dispose();
            }
        }
        _models.Clear();
    }
}
