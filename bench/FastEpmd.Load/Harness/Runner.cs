// Drives a scenario: warm-up, then paced rounds alternating between the arms (A B, B A, ...), then
// one closed-loop round each; memory read at the end. Daemons are stopped whatever happens.
using System.Diagnostics;

namespace FastEpmd.Load.Harness;

internal sealed class ScenarioResult(Scenario scenario, double rate, List<Arm> arms, double seconds)
{
    public Scenario Scenario { get; } = scenario;
    public double Rate { get; } = rate;
    public List<Arm> Arms { get; } = arms;
    public double Seconds { get; } = seconds;
}

internal static class Runner
{
    public static ScenarioResult Run(Scenario scenario, Settings settings, LoadEngine engine)
    {
        var clock = Stopwatch.StartNew();
        double rate = scenario.Rate(settings);
        Console.Error.WriteLine($"== {scenario.Name}: {scenario.Description} (paced {rate:0} ops/s, {scenario.Concurrency} in flight)");
        var arms = new List<Arm>();
        try
        {
            arms = scenario.Setup(settings);
            foreach (var arm in arms)
            {
                if (arm.Daemon != null) arm.RssAfterSetupKb = arm.Daemon.RssKb();
                string what = arm.Refused != null ? "REFUSED: " + arm.Refused : $"{arm.Registered} registered, RSS {arm.RssAfterSetupKb} kB";
                Console.Error.WriteLine($"   setup {arm.Label}: {what}{(arm.Note is null ? "" : " (" + arm.Note + ")")}");
            }
            var runnable = arms.Where(a => a.Runnable).ToList();
            var paced = new LoadPlan(rate, scenario.Concurrency, settings.PacedRound);
            foreach (var arm in runnable)
                engine.Run(arm.Daemon!.Port, arm.Daemon.Pid, arm.Workload!, paced with { Duration = settings.Warmup });
            for (int round = 0; round < settings.Rounds; round++)
            {
                var order = round % 2 == 0 ? runnable : Enumerable.Reverse(runnable).ToList();
                foreach (var arm in order)
                {
                    var r = engine.Run(arm.Daemon!.Port, arm.Daemon.Pid, arm.Workload!, paced);
                    arm.Paced.Add(r);
                    Print(scenario, arm, "paced", round + 1, settings.Rounds, r);
                }
            }
            var closed = new LoadPlan(0, scenario.Concurrency, settings.ClosedRound);
            foreach (var arm in runnable)
            {
                var r = engine.Run(arm.Daemon!.Port, arm.Daemon.Pid, arm.Workload!, closed);
                arm.Closed.Add(r);
                Print(scenario, arm, "closed", 1, 1, r);
            }
            foreach (var arm in arms)
            {
                if (arm.Daemon is { HasExited: false } d) arm.PeakRssKb = d.PeakRssKb();
            }
        }
        finally
        {
            foreach (var arm in arms) arm.Dispose();
        }
        Console.Error.WriteLine($"   {scenario.Name} took {clock.Elapsed.TotalSeconds:0.0} s");
        return new ScenarioResult(scenario, rate, arms, clock.Elapsed.TotalSeconds);
    }

    private static void Print(Scenario s, Arm arm, string mode, int round, int rounds, RoundResult r)
    {
        double us = r.Ok + r.BadBytes > 0 ? r.ServerCpu.Seconds * 1e6 / (r.Ok + r.BadBytes) : double.NaN;
        double usNs = r.Ok + r.BadBytes > 0 ? r.ServerCpu.SchedNs / 1e3 / (r.Ok + r.BadBytes) : double.NaN;
        Console.Error.WriteLine(
            $"   {s.Name,-10} {arm.Label,-22} {mode,-6} {round}/{rounds}: {r.OkPerSecond,8:0} ops/s  server {us,7:0.0} us/req (sched {usNs,6:0.0})  " +
            $"harness {r.HarnessCpu.Seconds / r.Seconds * 100,3:0}% cpu  p50 {Stats.Percentile(r.LatencyNs, 0.5) / 1e3,7:0.0} p99 {Stats.Percentile(r.LatencyNs, 0.99) / 1e3,7:0.0} us  " +
            $"err {r.Errors} bad {r.BadBytes}{(r.Late > 0 ? " late " + r.Late : "")}");
    }
}

internal static class Stats
{
    public static double Percentile(long[] sorted, double p)
    {
        if (sorted.Length == 0) return double.NaN;
        int i = (int)Math.Ceiling(p * sorted.Length) - 1;
        return sorted[Math.Clamp(i, 0, sorted.Length - 1)];
    }

    public static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        if (v.Length == 0) return double.NaN;
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
