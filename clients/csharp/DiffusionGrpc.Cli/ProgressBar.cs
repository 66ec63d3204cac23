namespace DiffusionGrpc.Cli;

/// <summary>A one-line progress bar on standard error, redrawn in place.</summary>
internal sealed class ProgressBar(TextWriter output, int width = 30)
{
    /// <summary>Draws the bar at <paramref name="done"/> of <paramref name="total"/> with a note.</summary>
    public void Draw(int done, int total, string note)
    {
        int filled = total > 0 ? (int)Math.Round(width * (double)done / total) : 0;
        output.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {done}/{total} {note}    ");
        output.Flush();
    }

    /// <summary>Ends the line.</summary>
    public void Finish() => output.WriteLine();
}
