namespace DiffusionGrpc.Benchmarks;

/// <summary>Paths of the repository, found from the binaries or the working directory.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = Find();

    public static string Models => Path.Combine(Root, "models");

    public static string FixtureModels => Path.Combine(Root, "tests", "fixtures", "models");

    private static string Find()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "DiffusionGrpc.sln")))
                {
                    return dir.FullName;
                }
            }
        }
        throw new DirectoryNotFoundException("Run from inside the repository.");
    }
}
