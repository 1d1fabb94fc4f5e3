// Drives a scenario: warm-up, then paced rounds with the arms rotated each round (A B C, B C A, ...),
// then (query cells) one closed-loop round each; memory read at the end. Daemons are stopped whatever happens.
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
            int rounds = scenario.RoundsFor(settings);
            var paced = new LoadPlan(rate, scenario.Concurrency, scenario.RoundFor(settings));
            foreach (var arm in runnable)
                engine.Run(arm.Daemon!.Port, arm.Daemon.Pid, arm.Workload!, paced with { Duration = settings.Warmup });
            for (int round = 0; round < rounds; round++)
            {
                // Rotated each round (A B C, B C A, C A B, ...): every arm takes every position.
                var order = Rotated(runnable, round);
                foreach (var arm in order)
                {
                    var r = engine.Run(arm.Daemon!.Port, arm.Daemon.Pid, arm.Workload!, paced);
                    arm.Paced.Add(r);
                    Print(scenario, arm, "paced", round + 1, rounds, r);
                }
            }
            if (scenario.ClosedLoop)
            {
                var closed = new LoadPlan(0, scenario.Concurrency, settings.ClosedRound);
                foreach (var arm in runnable)
                {
                    var r = engine.Run(arm.Daemon!.Port, arm.Daemon.Pid, arm.Workload!, closed);
                    arm.Closed.Add(r);
                    Print(scenario, arm, "closed", 1, 1, r);
                }
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

    public static List<T> Rotated<T>(IReadOnlyList<T> items, int round)
    {
        var order = new List<T>(items.Count);
        for (int i = 0; i < items.Count; i++) order.Add(items[(i + round) % items.Count]);
        return order;
    }

    private static void Print(Scenario s, Arm arm, string mode, int round, int rounds, RoundResult r)
    {
        double us = r.Ok + r.BadBytes > 0 ? r.ServerCpu.Seconds * 1e6 / (r.Ok + r.BadBytes) : double.NaN;
        double usNs = r.Ok + r.BadBytes > 0 ? r.ServerCpu.SchedNs / 1e3 / (r.Ok + r.BadBytes) : double.NaN;
        Console.Error.WriteLine(
            $"   {s.Name,-10} {arm.Label,-22} {mode,-6} {round}/{rounds}: {r.OkPerSecond,8:0} ops/s  server {us,7:0.0} us/req (sched {usNs,6:0.0})  " +
            $"harness {r.HarnessCpu.Seconds / r.Seconds * 100,3:0}% cpu  p50 {Stats.Percentile(r.LatencyNs, 0.5) / 1e3,7:0.0} p99 {Stats.Percentile(r.LatencyNs, 0.99) / 1e3,7:0.0} p99.9 {Stats.Percentile(r.LatencyNs, 0.999) / 1e3,7:0.0} us  " +
            $"err {r.Errors} bad {r.BadBytes}{(r.Late > 0 ? " late " + r.Late : "")}");
    }
}

/// <summary>A figure over rounds: the median, with the min-max beside it.</summary>
internal readonly record struct Spread(double Median, double Min, double Max, int Count)
{
    public static Spread Of(IEnumerable<double> values)
    {
        var v = values.Where(x => !double.IsNaN(x)).ToArray();
        return v.Length == 0 ? new Spread(double.NaN, double.NaN, double.NaN, 0) : new Spread(Stats.Median(v), v.Min(), v.Max(), v.Length);
    }

    /// <summary>
    /// Lower is better. A difference counts only when the ranges do not overlap: "better" when this
    /// one's worst round beats the other's best, "worse" the other way, else "within noise".
    /// </summary>
    public string VerdictAgainst(Spread other)
    {
        if (Count == 0 || other.Count == 0) return "-";
        if (Max < other.Min) return "better";
        if (Min > other.Max) return "worse";
        return "within noise";
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
