// The cluster-restart burst: 1,000 nodes registered, then N PORT_PLEASE2 connections opened at
// once, as fast as the generator processes can, against every daemon (rotated each round).
// Reported per N: time from the first connect to the last reply, p50/p99 per query, server CPU
// per query, errors by kind, the listen queue's peak (sock_diag, as `ss -ltn` shows it) and the
// kernel's ListenOverflows/ListenDrops/TCPSynRetrans over the burst (system-wide counters).
using FastEpmd.Load.Harness;

namespace FastEpmd.Load.Scenarios;

internal sealed class BurstRound
{
    public int N { get; init; }
    public int Round { get; init; }
    public double DrainMs { get; init; }
    public double P50Us { get; init; }
    public double P99Us { get; init; }
    public BurstOutcomes Outcomes { get; init; }
    public double CpuUsPerQuery { get; init; }
    public long CpuTicks { get; init; }
    public int ListenPeak { get; init; }
    public int ListenSamples { get; init; }
    public Dictionary<string, long> Kernel { get; init; } = new();
    public int Processes { get; init; }
}

internal sealed class BurstArm
{
    public required string Label { get; init; }
    public required DaemonKind Kind { get; init; }
    public int Registered { get; set; }
    public int Backlog { get; set; } = -1;
    public string Cpus { get; set; } = "";
    public List<BurstRound> Rounds { get; } = new();
    public string? Failed { get; set; }
}

internal static class Burst
{
    public const int Registered = 1000;
    public const string Prefix = "b";
    private const int DeadlineMs = 30_000;
    private const int WarmupPerChild = 300;

    public static List<BurstArm> Measure(Settings s)
    {
        var specs = Scenario.DaemonsWithFloor(s).ToList();
        int maxN = s.BurstSizes.Max();
        Console.Error.WriteLine($"== burst: {Registered:N0} registered, then N = {string.Join(", ", s.BurstSizes.Select(n => n.ToString("N0")))} PORT_PLEASE2 " +
            $"connections at once; {s.BurstRounds} round(s), daemons rotated");
        var arms = new List<BurstArm>();
        var running = new List<(BurstArm Arm, Daemon Daemon, HeldNodes Held, ListenQueue Queue)>();
        try
        {
            foreach (var spec in specs)
            {
                var daemon = Daemon.Start(spec);
                var held = HeldNodes.Start(daemon.Port, Prefix, Registered, stopAfterFailures: 3);
                var queue = new ListenQueue(daemon.Port);
                var arm = new BurstArm
                {
                    Label = spec.Label, Kind = spec.Kind, Registered = held.Registered,
                    Backlog = queue.Read().Backlog, Cpus = Affinity.AllowedList(daemon.Pid),
                };
                arms.Add(arm);
                running.Add((arm, daemon, held, queue));
                Console.Error.WriteLine($"   setup {arm.Label}: {held.Registered} registered, listen backlog {arm.Backlog}, cpus {arm.Cpus}");
                if (held.Registered != Registered) arm.Failed = $"{held.Registered} of {Registered} registered";
            }
            using var generators = new BurstGenerators((maxN + BurstChild.MaxPerChild - 1) / BurstChild.MaxPerChild);
            int burst = 0;
            foreach (var r in running.Where(r => r.Arm.Failed is null))
                generators.Run(r.Daemon.Port, Prefix, Registered, WarmupPerChild * generators.Count, DeadlineMs, ++burst, spread: true);
            var live = running.Where(r => r.Arm.Failed is null).ToList();
            for (int round = 0; round < s.BurstRounds; round++)
            {
                foreach (int n in s.BurstSizes)
                {
                    foreach (var (arm, daemon, _, queue) in Runner.Rotated(live, round))
                    {
                        if (daemon.HasExited)
                        {
                            arm.Failed ??= "the daemon exited";
                            continue;
                        }
                        var result = One(generators, daemon, queue, n, round + 1, ++burst);
                        arm.Rounds.Add(result);
                        Print(arm, result);
                    }
                }
            }
            foreach (var (arm, daemon, _, _) in running)
            {
                if (daemon.HasExited) arm.Failed ??= "the daemon exited";
            }
        }
        finally
        {
            foreach (var (_, daemon, held, queue) in running)
            {
                queue.Dispose();
                held.Dispose();
                daemon.Dispose();
            }
        }
        return arms;
    }

    private static BurstRound One(BurstGenerators generators, Daemon daemon, ListenQueue queue, int n, int round, int burst)
    {
        // The previous burst is over for the daemon too: nothing queued, then a short pause.
        for (int i = 0; i < 200 && queue.Read().Queued > 0; i++) Thread.Sleep(10);
        Thread.Sleep(150);
        var kernelBefore = NetCounters.Read();
        var cpuBefore = daemon.Cpu();
        queue.StartSampling();
        var shares = generators.Run(daemon.Port, Prefix, Registered, n, DeadlineMs, burst);
        queue.StopSampling();
        var cpu = daemon.Cpu() - cpuBefore;
        var kernel = NetCounters.Delta(NetCounters.Read(), kernelBefore);
        var latencies = shares.SelectMany(x => x.LatencyNs).ToArray();
        Array.Sort(latencies);
        long first = shares.Min(x => x.FirstStartNs);
        long last = shares.Max(x => x.LastReplyNs);
        var outcomes = BurstOutcomes.Sum(shares.Select(x => x.Outcomes));
        long replies = outcomes.Ok + outcomes.BadBytes;
        return new BurstRound
        {
            N = n,
            Round = round,
            DrainMs = last > 0 ? (last - first) / 1e6 : double.NaN,
            P50Us = Stats.Percentile(latencies, 0.5) / 1e3,
            P99Us = Stats.Percentile(latencies, 0.99) / 1e3,
            Outcomes = outcomes,
            CpuUsPerQuery = replies > 0 ? cpu.SchedNs / 1e3 / replies : double.NaN,
            CpuTicks = cpu.Ticks,
            ListenPeak = queue.Peak,
            ListenSamples = queue.Samples,
            Kernel = kernel,
            Processes = shares.Count,
        };
    }

    private static void Print(BurstArm arm, BurstRound r) =>
        Console.Error.WriteLine(
            $"   burst {r.N,6} {arm.Label,-24} {r.Round}: last reply after {r.DrainMs,8:0.0} ms  p50 {r.P50Us,8:0} p99 {r.P99Us,8:0} us  " +
            $"server {r.CpuUsPerQuery,6:0.0} us/query  {r.Outcomes}  " +
            $"listen queue peak {r.ListenPeak} ({r.ListenSamples} samples)  overflows {r.Kernel["ListenOverflows"]} drops {r.Kernel["ListenDrops"]} syn retrans {r.Kernel["TCPSynRetrans"]}");
}
