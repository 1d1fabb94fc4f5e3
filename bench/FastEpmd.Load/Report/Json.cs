// bench/results/latest.json: everything in the markdown, machine-readable.
using System.Text;
using System.Text.Json;
using FastEpmd.Load.Harness;

namespace FastEpmd.Load.Report;

internal static class Json
{
    public static string Write(RunReport r)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("when", r.When);
            w.WriteBoolean("quick", r.Settings.Quick);
            w.WriteNumber("cores", Environment.ProcessorCount);
            w.WriteNumber("clockTicksPerSecond", Native.ClockTicks);
            w.WriteString("fastepmd", r.Settings.Relative(r.Settings.FastEpmdPath));
            w.WriteString("floor", r.Settings.FloorPath is null ? null : r.Settings.Relative(r.Settings.FloorPath));
            w.WriteString("loadAtStart", r.Settings.LoadAtStart);
            w.WriteBoolean("pinned", Affinity.Pinned);
            w.WriteNumber("daemonCpu", Affinity.DaemonCpu);
            w.WriteString("harnessCpus", Affinity.HarnessCpus);
            w.WriteNumber("costRounds", r.Settings.CostRounds);
            w.WriteNumber("costRoundSeconds", r.Settings.CostRound.TotalSeconds);
            w.WriteBoolean("tailsMeaningful", r.Settings.TailsMeaningful);
            w.WriteString("otp", r.Settings.OtpPath);
            w.WriteNumber("rounds", r.Settings.Rounds);
            w.WriteNumber("pacedRoundSeconds", r.Settings.PacedRound.TotalSeconds);
            w.WriteNumber("seconds", r.Seconds);
            Objects(w, "targets", r.Targets, t =>
            {
                w.WriteString("name", t.Name);
                w.WriteString("measure", t.Measure);
                Num(w, "value", t.Value);
                Num(w, "floorRatio", t.Floor);
                w.WriteNumber("limit", t.Limit);
                w.WriteString("unit", t.Unit);
                if (t.Pass is bool p) w.WriteBoolean("pass", p);
                else w.WriteNull("pass");
                w.WriteString("detail", t.Detail);
            });
            Objects(w, "arms", r.Arms, a =>
            {
                w.WriteString("scenario", a.Scenario);
                w.WriteString("daemon", a.Label);
                w.WriteString("kind", a.Kind.ToString());
                if (a.Refused != null) w.WriteString("refused", a.Refused);
                w.WriteNumber("registered", a.Registered);
                w.WriteNumber("offeredOpsPerSec", a.OfferedRate);
                w.WriteNumber("inFlight", a.Concurrency);
                w.WriteStartObject("paced");
                w.WriteNumber("ops", a.Ops);
                Num(w, "seconds", a.Seconds);
                Num(w, "opsPerSec", a.OpsPerSec);
                w.WriteNumber("serverCpuTicks", a.CpuTicks);
                w.WriteNumber("serverCpuSchedNs", a.CpuSchedNs);
                Num(w, "opsPerServerCpuSecond", a.OpsPerCpuSecond);
                Num(w, "serverCpuUsPerRequest", a.CpuUsPerReq);
                Num(w, "serverSchedUsPerRequest", a.SchedUsPerReq);
                w.WriteBoolean("tailCell", a.TailCell);
                w.WriteNumber("rounds", a.Rounds);
                SpreadOf(w, "p50Us", a.P50Us);
                SpreadOf(w, "p99Us", a.P99Us);
                SpreadOf(w, "p999Us", a.P999Us);
                w.WriteNumber("errors", a.Errors);
                w.WriteNumber("badBytes", a.BadBytes);
                w.WriteNumber("late", a.Late);
                Num(w, "harnessCpuShare", a.HarnessCpuShare);
                w.WriteStartArray("roundCpuUsPerRequest");
                foreach (var x in a.RoundCpuUsPerReq) Num(w, null, x);
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteStartObject("closed");
                Num(w, "opsPerSec", a.ClosedOpsPerSec);
                Num(w, "serverCpuUsPerRequest", a.ClosedCpuUsPerReq);
                Num(w, "serverCpuShare", a.ClosedServerCpuShare);
                Num(w, "p50Us", a.ClosedP50Us);
                Num(w, "p99Us", a.ClosedP99Us);
                Num(w, "p999Us", a.ClosedP999Us);
                w.WriteNumber("errors", a.ClosedErrors);
                w.WriteNumber("badBytes", a.ClosedBadBytes);
                w.WriteEndObject();
                w.WriteNumber("rssAfterSetupKb", a.RssAfterSetupKb);
                w.WriteNumber("peakRssKb", a.PeakRssKb);
            });
            Objects(w, "tailVerdicts", r.Tails, t =>
            {
                w.WriteString("scenario", t.Scenario);
                w.WriteString("percentile", t.Percentile);
                w.WriteString("daemon", t.Label);
                SpreadOf(w, "fastepmdUs", t.FastEpmd);
                SpreadOf(w, "otpUs", t.Otp);
                SpreadOf(w, "floorUs", t.Floor);
                w.WriteString("verdict", t.Verdict);
            });
            Objects(w, "burst", r.Burst, x =>
            {
                w.WriteNumber("n", x.N);
                w.WriteString("daemon", x.Label);
                w.WriteString("kind", x.Kind.ToString());
                w.WriteNumber("backlog", x.Backlog);
                w.WriteNumber("rounds", x.Rounds);
                w.WriteNumber("processes", x.Processes);
                SpreadOf(w, "lastReplyMs", x.DrainMs);
                SpreadOf(w, "p50Us", x.P50Us);
                SpreadOf(w, "p99Us", x.P99Us);
                SpreadOf(w, "serverCpuUsPerQuery", x.CpuUsPerQuery);
                w.WriteNumber("ok", x.Outcomes.Ok);
                w.WriteNumber("badBytes", x.Outcomes.BadBytes);
                w.WriteNumber("connectFailed", x.Outcomes.ConnectFailed);
                w.WriteNumber("reset", x.Outcomes.Reset);
                w.WriteNumber("closedWithoutReply", x.Outcomes.ClosedWithoutReply);
                w.WriteNumber("timedOut", x.Outcomes.TimedOut);
                w.WriteNumber("listenQueuePeak", x.ListenPeakMax);
                w.WriteNumber("listenOverflows", x.Overflows);
                w.WriteNumber("listenDrops", x.Drops);
                w.WriteNumber("synRetrans", x.SynRetrans);
                if (x.Failed != null) w.WriteString("failed", x.Failed);
            });
            Objects(w, "burstVerdicts", r.BurstVerdicts, v =>
            {
                w.WriteNumber("n", v.N);
                w.WriteString("daemon", v.Label);
                SpreadOf(w, "fastepmdMs", v.FastEpmd);
                SpreadOf(w, "otpMs", v.Otp);
                w.WriteBoolean("otpAnsweredAll", v.OtpSurvived);
                w.WriteString("verdict", v.Verdict);
            });
            Objects(w, "startup", r.Startup, s =>
            {
                w.WriteString("daemon", s.Label);
                w.WriteStartArray("connectMs");
                foreach (var x in s.ConnectMs) Num(w, null, x);
                w.WriteEndArray();
                w.WriteStartArray("namesReplyMs");
                foreach (var x in s.FirstReplyMs) Num(w, null, x);
                w.WriteEndArray();
                w.WriteStartArray("idleRssKb");
                foreach (var x in s.IdleRssKb) w.WriteNumberValue(x);
                w.WriteEndArray();
                w.WriteStartArray("idleRssAnonKb");
                foreach (var x in s.IdleRssAnonKb) w.WriteNumberValue(x);
                w.WriteEndArray();
                w.WriteNumber("threads", s.Threads);
            });
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>An array of one object per item, each written by body.</summary>
    private static void Objects<T>(Utf8JsonWriter w, string name, IEnumerable<T> items, Action<T> body)
    {
        w.WriteStartArray(name);
        foreach (var item in items)
        {
            w.WriteStartObject();
            body(item);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void SpreadOf(Utf8JsonWriter w, string name, Spread v)
    {
        w.WriteStartObject(name);
        Num(w, "median", v.Median);
        Num(w, "min", v.Min);
        Num(w, "max", v.Max);
        w.WriteNumber("rounds", v.Count);
        w.WriteEndObject();
    }

    private static void Num(Utf8JsonWriter w, string? name, double v)
    {
        if (name != null) w.WritePropertyName(name);
        if (double.IsFinite(v)) w.WriteNumberValue(Math.Round(v, 3));
        else w.WriteNullValue();
    }
}
