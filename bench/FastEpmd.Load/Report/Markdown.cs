// bench/results/latest.md: targets first, then the paced and closed-loop tables, then start-up.
using System.Globalization;
using System.Text;
using FastEpmd.Load.Harness;

namespace FastEpmd.Load.Report;

internal static class Markdown
{
    private static string F(double v, string format = "0.0") =>
        double.IsNaN(v) ? "-" : double.IsInfinity(v) ? "inf" : v.ToString(format, CultureInfo.InvariantCulture);

    public static string Write(RunReport r)
    {
        var s = r.Settings;
        var b = new StringBuilder();
        b.Append("# FastEpmd vs OTP epmd: load results\n\n");
        b.Append(CultureInfo.InvariantCulture, $"{r.When:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {(s.Quick ? "quick" : "full")} run ({r.Seconds:0} s). ");
        b.Append(CultureInfo.InvariantCulture, $"FastEpmd: `{s.FastEpmdPath}` (NativeAOT); OTP: `{s.OtpPath ?? "not installed"}`. ");
        b.Append(CultureInfo.InvariantCulture, $"Paced: {s.Rounds} round(s) of {s.PacedRound.TotalSeconds:0.0} s per daemon, alternating (A B, B A, ...), same offered load for both; ");
        b.Append("operations start in waves of `in flight` connections. Server CPU = utime+stime from /proc/PID/stat ");
        b.Append(CultureInfo.InvariantCulture, $"(clock ticks / {Native.ClockTicks}); the schedstat column is the same CPU summed from /proc/PID/task/*/schedstat in ns, used for a ratio only where stat has under {ArmSummary.MinTicks} ticks. ");
        b.Append("Every reply is compared byte for byte with the reply the spec gives. ");
        b.Append("The kernel floor is `bench/floor/epmd_floor.c`, a bare epoll server with OTP's exchange (accept4, recv, send, close) and no other logic, run beside the two: ");
        b.Append("a limit below floor / OTP cannot be met by any epmd that makes the same exchange.\n\n");

        b.Append("## Targets\n\n| target | measure | value | limit | floor / OTP | result | detail |\n|---|---|---:|---:|---:|---|---|\n");
        foreach (var t in r.Targets)
        {
            string v = t.Unit == "ratio" ? F(t.Value, "0.000") : F(t.Value, "0.00") + " " + t.Unit;
            string limit = t.Unit == "ratio" ? "<= " + F(t.Limit, "0.###") : "<= " + F(t.Limit, "0.##") + " " + t.Unit;
            string pass = t.Pass switch { true => "PASS", false => t.BelowFloor ? "**FAIL** (floor above the limit)" : "**FAIL**", null => "n/a" };
            b.Append(CultureInfo.InvariantCulture, $"| {t.Name} | {t.Measure} | {v} | {limit} | {F(t.Floor, "0.000")} | {pass} | {t.Detail} |\n");
        }

        b.Append("\n## Paced load (same offered load for both daemons)\n\n");
        b.Append("| scenario | daemon | offered ops/s | in flight | ops/s | ops per server-CPU-s | server CPU us/req | schedstat us/req | p50 us | p99 us | p99.9 us | peak RSS kB | errors | bad bytes |\n");
        b.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var a in r.Arms)
        {
            if (!a.Measured)
            {
                b.Append(CultureInfo.InvariantCulture, $"| {a.Scenario} | {a.Label} | {F(a.OfferedRate, "0")} | {a.Concurrency} | refused: {a.Refused ?? "no replies"} | | | | | | | {a.PeakRssKb} | | |\n");
                continue;
            }
            b.Append(CultureInfo.InvariantCulture,
                $"| {a.Scenario} | {a.Label} | {F(a.OfferedRate, "0")} | {a.Concurrency} | {F(a.OpsPerSec, "0")} | {F(a.OpsPerCpuSecond, "0")} | {F(a.CpuUsPerReq, "0.0")} | {F(a.SchedUsPerReq, "0.0")} | " +
                $"{F(a.P50Us)} | {F(a.P99Us)} | {F(a.P999Us)} | {a.PeakRssKb} | {a.Errors} | {a.BadBytes} |\n");
        }

        b.Append("\n## Closed loop (as fast as the harness drives it; the harness shares the 2 cores)\n\n");
        b.Append("| scenario | daemon | in flight | ops/s | server CPU share | server CPU us/req | p50 us | p99 us | p99.9 us | errors | bad bytes |\n");
        b.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var a in r.Arms.Where(a => a.Measured))
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
}
