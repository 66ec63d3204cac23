using System.Globalization;
using DiffusionGrpc.Evaluation;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DiffusionGrpc.Benchmarks.Evaluation;

/// <summary>
/// <c>grid OUTPUT.png</c>: one picture of the same prompts and seeds under several configurations, generated
/// through the service: a row per configuration (labelled model, scheduler, steps, guidance), a column per
/// prompt (labelled with what it asks for). Default rows: the <c>distillation</c> preset (teacher vs students).
/// </summary>
internal static class GridCommand
{
    private const string Usage =
        "grid OUTPUT.png [default | distillation | model:scheduler:steps:guidance ...] [--models-path DIR] [--teacher ID] [--columns N] [--zoom N]";

    private static readonly Rgb24 Background = new(24, 24, 24);
    private static readonly Rgb24 Ink = new(235, 235, 235);
    private const int Margin = 8;
    private const int FontScale = 2;

    /// <summary>Runs the command; returns the exit code.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        EvaluationOptions options;
        try
        {
            options = EvaluationOptions.Parse(args, "distillation", ["--columns", "--zoom"],
                a => !a.EndsWith(".png", StringComparison.OrdinalIgnoreCase));
            if (options.Positional.Count != 1)
            {
                throw new ArgumentException("Name one output .png file.");
            }
            options.CheckModelsExist();
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
        var inv = CultureInfo.InvariantCulture;
        int columns = options.Extra.TryGetValue("--columns", out var c) ? int.Parse(c, inv) : 6;
        int zoom = options.Extra.TryGetValue("--zoom", out var z) ? int.Parse(z, inv) : 3;
        string output = options.Positional[0];

        // Prompts spread over the set, seeds taken in turn.
        var set = EvaluationSet.Load(Path.Combine(options.EvaluationPath, EvaluationSet.FileName));
        var prompts = options.Limit > 0 ? set.Prompts.Take(options.Limit).ToList() : set.Prompts.ToList();
        columns = Math.Min(columns, prompts.Count);
        var cases = Enumerable.Range(0, columns)
            .Select(i => new EvaluationCase(prompts[i * prompts.Count / columns], set.Seeds[i % set.Seeds.Count]))
            .ToList();

        var rows = new List<(string[] Label, List<byte[]> Images)>();
        await using (var host = await BenchmarkHost.StartAsync(options.ModelsPath))
        {
            foreach (var configuration in options.Configurations)
            {
                var images = new List<byte[]>();
                GenerateRequestLabel? label = null;
                foreach (var item in cases)
                {
                    var image = await AdherenceEvaluation.GenerateAsync(host.Client.Generation, configuration, item.Prompt.Prompt, item.Seed);
                    label ??= new GenerateRequestLabel(image.Resolved);
                    images.Add(image.Png);
                }
                rows.Add((label!.Lines, images));
                Console.Error.WriteLine($"{configuration}: {images.Count} images");
            }
        }

        int tile = 64 * zoom;
        var columnLabels = cases.Select(ColumnLabel).ToList();
        int labelWidth = rows.Max(r => r.Label.Max(l => l.Length)) * BitmapFont.Advance * FontScale + 2 * Margin;
        int headerHeight = columnLabels.Max(l => l.Length) * BitmapFont.LineHeight * FontScale + 2 * Margin;
        int columnWidth = Math.Max(tile, columnLabels.Max(l => l.Max(s => s.Length)) * BitmapFont.Advance * FontScale) + Margin;
        int rowHeight = Math.Max(tile, rows.Max(r => r.Label.Length) * BitmapFont.LineHeight * FontScale) + Margin;
        using var grid = new Image<Rgb24>(labelWidth + columns * columnWidth + Margin, headerHeight + rows.Count * rowHeight + Margin, Background);
        for (int col = 0; col < columns; col++)
        {
            BitmapFont.Draw(grid, columnLabels[col], labelWidth + col * columnWidth, Margin, FontScale, Ink);
        }
        for (int row = 0; row < rows.Count; row++)
        {
            int top = headerHeight + row * rowHeight;
            BitmapFont.Draw(grid, rows[row].Label, Margin, top, FontScale, Ink);
            for (int col = 0; col < columns; col++)
            {
                using var image = Image.Load<Rgb24>(rows[row].Images[col]);
                image.Mutate(x => x.Resize(tile, tile, KnownResamplers.NearestNeighbor));
                int left = labelWidth + col * columnWidth;
                grid.Mutate(x => x.DrawImage(image, new Point(left, top), 1f));
            }
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        await grid.SaveAsPngAsync(output);
        Console.WriteLine($"wrote {output}: {rows.Count} rows × {columns} columns");
        for (int col = 0; col < columns; col++)
        {
            Console.WriteLine(string.Create(inv, $"  column {col + 1}: \"{cases[col].Prompt.Prompt}\", seed {cases[col].Seed}"));
        }
        return 0;
    }

    private static string[] ColumnLabel(EvaluationCase item)
    {
        string A(string name) => item.Prompt.Attributes.TryGetValue(name, out var v) ? v : "";
        return [$"{A("size")} {A("colour")}".Trim(), $"{A("shape")} {A("position")}".Trim(), $"on {A("background")}", $"seed {item.Seed}"];
    }

    /// <summary>The row label of a configuration, from the server's resolved request.</summary>
    private sealed class GenerateRequestLabel(Contracts.V1.GenerateRequest resolved)
    {
        public string[] Lines { get; } =
        [
            resolved.Model,
            string.Create(CultureInfo.InvariantCulture, $"{EvaluationConfiguration.SchedulerName(resolved.Scheduler?.Kind ?? Contracts.V1.SchedulerKind.Unspecified)} {resolved.Steps} step{(resolved.Steps == 1 ? "" : "s")}"),
            resolved.GuidanceScale is { } g && g > 1 ? string.Create(CultureInfo.InvariantCulture, $"guidance {g:0.##}") : "no guidance",
        ];
    }
}

/// <summary>A 5×7 pixel font (A–Z, 0–9, <c>- . : / = _</c>, space; lower case drawn as upper case) for grid labels.</summary>
internal static class BitmapFont
{
    /// <summary>Horizontal advance per character, in font pixels.</summary>
    public const int Advance = 6;

    /// <summary>Line height, in font pixels.</summary>
    public const int LineHeight = 9;

    private static readonly Dictionary<char, string[]> Glyphs = new()
    {
        ['A'] = [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
        ['B'] = ["####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."],
        ['C'] = [".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."],
        ['D'] = ["####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."],
        ['E'] = ["#####", "#....", "#....", "####.", "#....", "#....", "#####"],
        ['F'] = ["#####", "#....", "#....", "####.", "#....", "#....", "#...."],
        ['G'] = [".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"],
        ['H'] = ["#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
        ['I'] = [".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
        ['J'] = ["..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."],
        ['K'] = ["#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"],
        ['L'] = ["#....", "#....", "#....", "#....", "#....", "#....", "#####"],
        ['M'] = ["#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"],
        ['N'] = ["#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"],
        ['O'] = [".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
        ['P'] = ["####.", "#...#", "#...#", "####.", "#....", "#....", "#...."],
        ['Q'] = [".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"],
        ['R'] = ["####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"],
        ['S'] = [".####", "#....", "#....", ".###.", "....#", "....#", "####."],
        ['T'] = ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."],
        ['U'] = ["#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
        ['V'] = ["#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."],
        ['W'] = ["#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."],
        ['X'] = ["#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"],
        ['Y'] = ["#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."],
        ['Z'] = ["#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"],
        ['0'] = [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
        ['1'] = ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
        ['2'] = [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
        ['3'] = ["#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."],
        ['4'] = ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
        ['5'] = ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
        ['6'] = ["..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."],
        ['7'] = ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
        ['8'] = [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
        ['9'] = [".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."],
        ['-'] = [".....", ".....", ".....", "#####", ".....", ".....", "....."],
        ['.'] = [".....", ".....", ".....", ".....", ".....", ".##..", ".##.."],
        [':'] = [".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."],
        ['/'] = [".....", "....#", "...#.", "..#..", ".#...", "#....", "....."],
        ['='] = [".....", ".....", "#####", ".....", "#####", ".....", "....."],
        ['_'] = [".....", ".....", ".....", ".....", ".....", ".....", "#####"],
    };

    /// <summary>Draws <paramref name="lines"/> with their top left corner at (<paramref name="x"/>, <paramref name="y"/>); unknown characters are left blank.</summary>
    public static void Draw(Image<Rgb24> image, IReadOnlyList<string> lines, int x, int y, int scale, Rgb24 colour)
    {
        for (int line = 0; line < lines.Count; line++)
        {
            int top = y + line * LineHeight * scale;
            for (int i = 0; i < lines[line].Length; i++)
            {
                if (!Glyphs.TryGetValue(char.ToUpperInvariant(lines[line][i]), out var glyph))
                {
                    continue;
                }
                int left = x + i * Advance * scale;
                for (int gy = 0; gy < glyph.Length; gy++)
                {
                    for (int gx = 0; gx < glyph[gy].Length; gx++)
                    {
                        if (glyph[gy][gx] == '#')
                        {
                            Fill(image, left + gx * scale, top + gy * scale, scale, colour);
                        }
                    }
                }
            }
        }
    }

    private static void Fill(Image<Rgb24> image, int x, int y, int size, Rgb24 colour)
    {
        for (int dy = 0; dy < size && y + dy < image.Height; dy++)
        {
            for (int dx = 0; dx < size && x + dx < image.Width; dx++)
            {
                image[x + dx, y + dy] = colour;
            }
        }
    }
}
