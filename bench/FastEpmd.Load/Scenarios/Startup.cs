// Start-up and idle memory: the time from Process.Start to the first successful connect (and to a
// complete NAMES reply), and the resident set of a daemon that has served one NAMES request.
using FastEpmd.Load.Harness;

namespace FastEpmd.Load.Scenarios;

internal sealed class StartupResult
{
    public required string Label { get; init; }
    public required DaemonKind Kind { get; init; }
    public List<double> ConnectMs { get; } = new();
    public List<double> FirstReplyMs { get; } = new();
    public List<long> IdleRssKb { get; } = new();
    public List<long> IdleRssAnonKb { get; } = new();
    public int Threads { get; set; }
}

internal static class Startup
{
    public static List<StartupResult> Measure(Settings s)
    {
        Console.Error.WriteLine($"== startup: time to serving and idle RSS ({s.StartupSamples} starts each, alternating)");
        var specs = Scenario.Daemons(s).ToList();
        var results = specs.Select(d => new StartupResult { Label = d.Label, Kind = d.Kind }).ToList();
        for (int i = 0; i < s.StartupSamples; i++)
        {
            for (int k = 0; k < specs.Count; k++)
            {
                var r = results[k];
                using var d = Daemon.Start(specs[k]);
                r.ConnectMs.Add(d.StartToConnectMs);
                r.FirstReplyMs.Add(d.StartToFirstReplyMs);
                Thread.Sleep(150);
                r.IdleRssKb.Add(d.RssKb());
                r.IdleRssAnonKb.Add(ProcStats.StatusKb(d.Pid, "RssAnon"));
                r.Threads = ProcStats.Threads(d.Pid);
            }
        }
        foreach (var r in results)
        {
            Console.Error.WriteLine($"   {r.Label,-10} connect after {Stats.Median(r.ConnectMs),6:0.0} ms (median; min {r.ConnectMs.Min():0.0}, max {r.ConnectMs.Max():0.0}), " +
                $"NAMES reply after {Stats.Median(r.FirstReplyMs):0.0} ms, idle RSS {Stats.Median(r.IdleRssKb.Select(x => (double)x)):0} kB, {r.Threads} threads");
        }
        return results;
    }
}
