// The packaging tests' measurements (activation latency, restart, security score, image size,
// stop time). dotnet test shows no test output at its default verbosity, so they also go to
// out/packaging-figures.txt, which ./build.sh test prints after the run.
namespace FastEpmd.SystemTests.Packaging;

internal static class Figures
{
    private static readonly object s_lock = new();

    public static string FilePath => Path.Combine(Binaries.RepoRoot, "out", "packaging-figures.txt");

    public static void Report(string area, string text)
    {
        var line = $"{area}: {text}";
        TestContext.Progress.WriteLine(line);
        lock (s_lock) File.AppendAllText(FilePath, line + "\n");
    }
}
