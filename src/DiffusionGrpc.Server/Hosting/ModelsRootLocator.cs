namespace DiffusionGrpc.Server.Hosting;

/// <summary>
/// Finds the models root when <c>Diffusion:ModelsPath</c> is unset: the <c>models/</c> folder of the
/// repository (the folder holding DiffusionGrpc.sln) above the working directory or the binaries, so the
/// host serves the shipped default model from the repo root, its project folder or its build output.
/// </summary>
public static class ModelsRootLocator
{
    /// <summary>The configured path (relative to the working directory), else the repository's models folder, else <c>./models</c>.</summary>
    public static string Resolve(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured);
        }
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "DiffusionGrpc.sln")))
                {
                    return Path.Combine(dir.FullName, "models");
                }
            }
        }
        return Path.GetFullPath("models");
    }
}
