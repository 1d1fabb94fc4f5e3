// Runs one sequence against one daemon binary and returns its transcript.
using System.Diagnostics;
using System.Text;

namespace FastEpmd.SystemTests.Differential;

internal static class DiffRunner
{
    public static DiffTranscript Run(DiffSequence sequence, string binary)
    {
        var sw = Stopwatch.StartNew();
        var lines = new List<DiffLine>();
        DaemonProcess daemon = DaemonProcess.Start(binary, sequence.Args, sequence.Env);
        try
        {
            using var side = new DiffSide(daemon);
            foreach (var step in sequence.Steps)
            {
                string outcome;
                try
                {
                    outcome = DiffRender.Canon(step.Run(side));
                }
                catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or ObjectDisposedException)
                {
                    outcome = $"exception {e.GetType().Name}";
                    side.Notes.Add($"{step.Describe}: {e}");
                }
                lines.Add(new DiffLine(step, outcome));
            }
            return new DiffTranscript(binary, daemon.Port, lines, side.Notes.ToList(), sw.Elapsed, daemon.Stderr);
        }
        finally
        {
            daemon.Dispose();
        }
    }
}

internal sealed record DiffLine(DiffStep Step, string Outcome)
{
    public override string ToString() => $"{Step.Describe} => {Outcome}";
}

internal sealed class DiffTranscript
{
    public DiffTranscript(string binary, int port, List<DiffLine> lines, List<string> notes, TimeSpan elapsed, string stderr)
    {
        Binary = binary;
        Port = port;
        Lines = lines;
        Notes = notes;
        Elapsed = elapsed;
        Stderr = stderr;
    }

    public string Binary { get; }
    public int Port { get; }
    public List<DiffLine> Lines { get; }
    public List<string> Notes { get; }
    public TimeSpan Elapsed { get; }
    public string Stderr { get; }

    public string Format(string title)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"--- {title}: {Binary} on port {Port} ({Elapsed.TotalMilliseconds:F0} ms)");
        for (int i = 0; i < Lines.Count; i++) sb.AppendLine($"  {i:00} {Lines[i]}");
        foreach (var note in Notes) sb.AppendLine($"  note: {note}");
        if (Stderr.Length > 0) sb.AppendLine($"  stderr: {Stderr.TrimEnd()}");
        return sb.ToString();
    }

    public override string ToString() => Format("transcript");
}
