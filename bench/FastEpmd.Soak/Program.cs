// ./build.sh soak MINUTES: churn, queries and faults together against the daemon for that long,
// then the same checks as the suite's one-minute soak. Exit 0 only when everything held.
using System.Globalization;
using FastEpmd.Testing;

namespace FastEpmd.Soak;

internal static class Program
{
    private static int Main(string[] args)
    {
        var options = new SoakOptions();
        string binary = Binaries.FastEpmd;
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : "";
            switch (args[i])
            {
                case "--minutes": options = options with { Duration = TimeSpan.FromMinutes(double.Parse(value, CultureInfo.InvariantCulture)) }; i++; break;
                case "--seconds": options = options with { Duration = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture)) }; i++; break;
                case "--binary": binary = Path.GetFullPath(value); i++; break;
                case "--seed": options = options with { Seed = int.Parse(value, CultureInfo.InvariantCulture) }; i++; break;
                case "--workers": int n = int.Parse(value, CultureInfo.InvariantCulture); options = options with { ChurnWorkers = n, QueryWorkers = n, FaultWorkers = n }; i++; break;
                default:
                    Console.Error.WriteLine("usage: FastEpmd.Soak [--minutes M | --seconds S] [--binary PATH] [--seed N] [--workers N]");
                    return 2;
            }
        }

        Console.WriteLine($"soaking {binary} for {options.Duration.TotalMinutes:F1} min (seed {options.Seed})");
        using var daemon = SoakOptions.StartDaemon(binary, options);
        var report = new SoakRunner(daemon, options, line => Console.WriteLine(line)).Run();
        var failures = new List<string>();
        if (report.WrongReplies > 0) failures.Add($"{report.WrongReplies} wrong replies");
        if (report.LostRegistrations > 0) failures.Add($"{report.LostRegistrations} lost registrations");
        if (report.LeftoverRegistrations > 0) failures.Add($"{report.LeftoverRegistrations} churned registrations left behind");
        if (report.FdsAfter != report.FdsBaseline) failures.Add($"descriptors {report.FdsBaseline} -> {report.FdsAfter}");
        if (report.RssAfter > report.RssBaseline + 4L * 1024 * 1024) failures.Add($"RSS {ProcessStats.MB(report.RssBaseline)} -> {ProcessStats.MB(report.RssAfter)}");
        if (!report.Problems.IsEmpty) failures.Add($"{report.Problems.Count} problems");
        Console.WriteLine(failures.Count == 0 ? "soak: PASS" : "soak: FAIL: " + string.Join("; ", failures));
        return failures.Count == 0 ? 0 : 1;
    }
}
