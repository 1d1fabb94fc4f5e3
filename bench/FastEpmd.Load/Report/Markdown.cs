// bench/results/latest.md: targets first, then the paced and closed-loop tables, then start-up.
using System.Globalization;
using System.Text;
using FastEpmd.Load.Harness;

namespace FastEpmd.Load.Report;

internal static class Markdown
{
    private static string F(double v, string format = "0.0") =>
        double.IsNaN(v) ? "-" : double.IsInfinity(v) ? "inf" : v.ToString(format, CultureInfo.InvariantCulture);

    private static string R(Spread v, string format = "0") =>
        v.Count == 0 ? "-" : v.Count == 1 ? F(v.Median, format) : $"{F(v.Median, format)} ({F(v.Min, format)}-{F(v.Max, format)})";

    public static string Write(RunReport r)
    {
        var s = r.Settings;
        var b = new StringBuilder();
        b.Append("# FastEpmd vs OTP epmd: load results\n\n");
        b.Append(CultureInfo.InvariantCulture, $"{r.When:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {(s.Quick ? "quick" : "full")} run ({r.Seconds:0} s), load average at the start {s.LoadAtStart}. ");
        b.Append(CultureInfo.InvariantCulture, $"FastEpmd: `{s.Relative(s.FastEpmdPath)}` (NativeAOT); OTP: `{s.OtpPath ?? "not installed"}`; kernel floor: `{(s.FloorPath is null ? "not built" : s.Relative(s.FloorPath))}`. ");
        b.Append(Affinity.Pinned
            ? $"Every daemon runs on cpu {Affinity.DaemonCpu}, the harness and its generator processes on cpu {Affinity.HarnessCpus} (sched_setaffinity). "
            : "Not pinned (one core, or --no-pin): the generator and the daemon share the cores. ");
        b.Append(CultureInfo.InvariantCulture, $"Tail cells (query16, query64): {s.Rounds} round(s) of {s.PacedRound.TotalSeconds:0.0} s per daemon; cost cells (CPU per request only): {s.CostRounds} round(s) of {s.CostRound.TotalSeconds:0.0} s; ");
        b.Append("the daemons are rotated each round (A B C, B C A, C A B, ...), at the same offered load; operations start in waves of `in flight` connections. Server CPU = utime+stime from /proc/PID/stat ");
        b.Append(CultureInfo.InvariantCulture, $"(clock ticks / {Native.ClockTicks}); the schedstat column is the same CPU summed from /proc/PID/task/*/schedstat in ns, used for a ratio only where stat has under {ArmSummary.MinTicks} ticks. ");
        b.Append("Every reply is compared byte for byte with the reply the spec gives. ");
        b.Append("The kernel floor is `bench/floor/epmd_floor.c`, a bare epoll server with OTP's exchange (accept4, recv, send, close) and no other logic, run beside the two: ");
        b.Append("a limit below floor / OTP cannot be met by any epmd that makes the same exchange.\n\n");
        if (!s.TailsMeaningful)
        {
            b.Append(CultureInfo.InvariantCulture, $"**This run is not for tails**: {s.Rounds} round(s) of {s.PacedRound.TotalSeconds:0.0} s; a p99.9 over a few thousand operations is decided by one stall of the machine. ");
            b.Append("It prints no tail verdicts; read tails from a full run (`./build.sh bench`).\n\n");
        }

        b.Append("## Targets\n\n| target | measure | value | limit | floor / OTP | result | detail |\n|---|---|---:|---:|---:|---|---|\n");
        foreach (var t in r.Targets)
        {
            string v = t.Unit == "ratio" ? F(t.Value, "0.000") : F(t.Value, "0.00") + " " + t.Unit;
            string limit = t.Unit == "ratio" ? "<= " + F(t.Limit, "0.###") : "<= " + F(t.Limit, "0.##") + " " + t.Unit;
            string pass = t.Pass switch { true => "PASS", false => t.BelowFloor ? "**FAIL** (floor above the limit)" : "**FAIL**", null => "n/a" };
            b.Append(CultureInfo.InvariantCulture, $"| {t.Name} | {t.Measure} | {v} | {limit} | {F(t.Floor, "0.000")} | {pass} | {t.Detail} |\n");
        }

        WriteTails(r, b);
        WriteBurst(r, b);
        b.Append("\n## Paced load (same offered load for every daemon)\n\n");
        b.Append("Cost per request; tails are in the tail table above (tail cells only). p50 is the median of the per-round p50s.\n\n");
        b.Append("| scenario | daemon | offered ops/s | in flight | rounds x s | ops/s | ops per server-CPU-s | server CPU us/req | schedstat us/req | p50 us | peak RSS kB | errors | bad bytes |\n");
        b.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var a in r.Arms)
        {
            if (!a.Measured)
            {
                b.Append(CultureInfo.InvariantCulture, $"| {a.Scenario} | {a.Label} | {F(a.OfferedRate, "0")} | {a.Concurrency} | | refused: {a.Refused ?? "no replies"} | | | | | {a.PeakRssKb} | | |\n");
                continue;
            }
            b.Append(CultureInfo.InvariantCulture,
                $"| {a.Scenario} | {a.Label} | {F(a.OfferedRate, "0")} | {a.Concurrency} | {a.Rounds} x {F(a.RoundSeconds, "0.0")} | {F(a.OpsPerSec, "0")} | {F(a.OpsPerCpuSecond, "0")} | {F(a.CpuUsPerReq, "0.0")} | {F(a.SchedUsPerReq, "0.0")} | " +
                $"{F(a.P50Us.Median)} | {a.PeakRssKb} | {a.Errors} | {a.BadBytes} |\n");
        }

        b.Append("\n## Closed loop, query cells (as fast as the harness drives it from its one core: not server capacity)\n\n");
        b.Append("| scenario | daemon | in flight | ops/s | server CPU share | server CPU us/req | p50 us | p99 us | p99.9 us | errors | bad bytes |\n");
        b.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var a in r.Arms.Where(a => a.Measured && !double.IsNaN(a.ClosedP50Us)))
        {
            b.Append(CultureInfo.InvariantCulture,
                $"| {a.Scenario} | {a.Label} | {a.Concurrency} | {F(a.ClosedOpsPerSec, "0")} | {F(a.ClosedServerCpuShare * 100, "0")}% | {F(a.ClosedCpuUsPerReq)} | {F(a.ClosedP50Us)} | {F(a.ClosedP99Us)} | {F(a.ClosedP999Us)} | {a.ClosedErrors} | {a.ClosedBadBytes} |\n");
        }

        if (r.Startup.Count > 0)
        {
            b.Append("\n## Start-up and memory\n\n| daemon | start -> connect ms (median) | min / max ms | start -> NAMES reply ms | idle RSS kB | of which anonymous kB | threads |\n|---|---:|---:|---:|---:|---:|---:|\n");
            foreach (var st in r.Startup)
            {
                b.Append(CultureInfo.InvariantCulture,
                    $"| {st.Label} | {F(Stats.Median(st.ConnectMs))} | {F(st.ConnectMs.Min())} / {F(st.ConnectMs.Max())} | {F(Stats.Median(st.FirstReplyMs))} | {F(Stats.Median(st.IdleRssKb.Select(x => (double)x)), "0")} | {F(Stats.Median(st.IdleRssAnonKb.Select(x => (double)x)), "0")} | {st.Threads} |\n");
            }
            foreach (var a in r.Arms.Where(a => a.Scenario.StartsWith("hold", StringComparison.Ordinal)))
            {
                b.Append(CultureInfo.InvariantCulture, $"\n- {a.Label}: {a.Registered:N0} registered, VmRSS after registering {a.RssAfterSetupKb} kB, peak {a.PeakRssKb} kB{(a.Refused is null ? "" : "; " + a.Refused)}");
            }
            b.Append('\n');
        }

        b.Append("\n## Per-round server CPU us/request (paced)\n\n");
        foreach (var a in r.Arms.Where(a => a.Measured))
            b.Append(CultureInfo.InvariantCulture, $"- {a.Scenario} {a.Label}: {string.Join(", ", a.RoundCpuUsPerReq.Select(x => F(x)))}; harness CPU {F(a.HarnessCpuShare * 100, "0")}% of a core{(a.Late > 0 ? $"; {a.Late} ops started late (cap reached)" : "")}\n");
        return b.ToString();
    }

    private static void WriteTails(RunReport r, StringBuilder b)
    {
        var s = r.Settings;
        var cells = r.Arms.Where(a => a.TailCell && a.Measured).ToList();
        if (cells.Count == 0) return;
        b.Append("\n## Tails (tail cells)\n\n");
        b.Append("Each figure is the median over rounds of that round's percentile, with the min-max over rounds in brackets. ");
        b.Append("A difference counts only when the ranges do not overlap: **better** (FastEpmd's worst round beats OTP's best), **worse** (the reverse), else **within noise**.\n\n");
        bool verdicts = s.TailsMeaningful;
        b.Append(verdicts
            ? "| scenario | daemon | rounds x s | ops per round (min) | p50 us | p99 us | p99.9 us | p99 vs OTP | p99.9 vs OTP |\n|---|---|---:|---:|---:|---:|---:|---|---|\n"
            : "| scenario | daemon | rounds x s | ops per round (min) | p50 us | p99 us | p99.9 us |\n|---|---|---:|---:|---:|---:|---:|\n");
        foreach (var a in cells)
        {
            b.Append(CultureInfo.InvariantCulture, $"| {a.Scenario} | {a.Label} | {a.Rounds} x {F(a.RoundSeconds, "0.0")} | {a.MinOpsPerRound} | {R(a.P50Us)} | {R(a.P99Us)} | {R(a.P999Us)} |");
            if (verdicts)
            {
                string V(string p) => r.Tails.FirstOrDefault(t => t.Scenario == a.Scenario && t.Label == a.Label && t.Percentile == p)?.Verdict ?? "";
                b.Append(CultureInfo.InvariantCulture, $" {V("p99")} | {V("p99.9")} |");
            }
            b.Append('\n');
        }
        if (verdicts)
        {
            b.Append("\nVerdicts: ");
            b.Append(string.Join("; ", r.Tails.Select(t => $"{t.Scenario} {t.Percentile} {t.Label}: **{t.Verdict}**")));
            b.Append('\n');
        }
    }

    private static void WriteBurst(RunReport r, StringBuilder b)
    {
        if (r.Burst.Count == 0 && r.BurstArms.Count == 0) return;
        var s = r.Settings;
        b.Append(CultureInfo.InvariantCulture, $"\n## Burst: {Scenarios.Burst.Registered:N0} registered, then N PORT_PLEASE2 connections at once\n\n");
        b.Append(CultureInfo.InvariantCulture, $"{s.BurstRounds} round(s), each: every N against every daemon, rotated. The generator processes (at most {BurstChild.MaxPerChild:N0} sockets each, 127.x source addresses) open their connections as fast as they can and read every reply. ");
        b.Append("Last reply = from the first connect to the last reply; p50/p99 per query from connect to the reply's EOF; figures are medians over rounds (min-max). ");
        b.Append("Listen queue peak: the accept queue of the daemon's IPv4 listener read every ms through sock_diag (what `ss -ltn` shows as Recv-Q), the largest over the rounds; backlog is that listener's limit (Send-Q). ");
        b.Append("Overflows, drops and SYN retransmits are the kernel's TcpExt ListenOverflows, ListenDrops and TCPSynRetrans (system-wide) summed over the rounds: a dropped SYN is retried by the client after 1 s, then 3 s, ....\n\n");
        foreach (var arm in r.BurstArms)
            b.Append(CultureInfo.InvariantCulture, $"- {arm.Label}: {arm.Registered:N0} registered, listen backlog {arm.Backlog}, cpus {arm.Cpus}{(arm.Failed is null ? "" : "; **" + arm.Failed + "**")}\n");
        b.Append("\n| N | daemon | processes | last reply ms | p50 us | p99 us | server CPU us/query | replies ok | errors (connect / reset / no reply / timeout) | bad bytes | listen queue peak | overflows | drops | SYN retrans |\n");
        b.Append("|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|\n");
        foreach (var x in r.Burst.OrderBy(x => x.N))
        {
            var o = x.Outcomes;
            b.Append(CultureInfo.InvariantCulture,
                $"| {x.N:N0} | {x.Label} | {x.Processes} | {R(x.DrainMs, "0.0")} | {R(x.P50Us)} | {R(x.P99Us)} | {R(x.CpuUsPerQuery, "0.0")} | {o.Ok:N0} of {(long)x.N * x.Rounds:N0} | " +
                $"{o.Errors} ({o.ConnectFailed} / {o.Reset} / {o.ClosedWithoutReply} / {o.TimedOut}) | {o.BadBytes} | {x.ListenPeakMax} | {x.Overflows} | {x.Drops} | {x.SynRetrans} |\n");
        }
        if (r.BurstVerdicts.Count > 0)
        {
            b.Append("\nLast reply, FastEpmd vs OTP (same range rule as the tails): ");
            b.Append(string.Join("; ", r.BurstVerdicts.Select(v => $"N = {v.N:N0} {v.Label}: **{v.Verdict}**{(v.OtpSurvived ? "" : " (OTP did not answer every query)")}")));
            b.Append('\n');
        }
    }
}
