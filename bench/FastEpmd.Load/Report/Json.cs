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
            w.WriteString("fastepmd", r.Settings.FastEpmdPath);
            w.WriteString("otp", r.Settings.OtpPath);
            w.WriteNumber("rounds", r.Settings.Rounds);
            w.WriteNumber("pacedRoundSeconds", r.Settings.PacedRound.TotalSeconds);
            w.WriteNumber("seconds", r.Seconds);
            w.WriteStartArray("targets");
            foreach (var t in r.Targets)
            {
                w.WriteStartObject();
                w.WriteString("name", t.Name);
                w.WriteString("measure", t.Measure);
                Num(w, "value", t.Value);
                Num(w, "floorRatio", t.Floor);
                w.WriteNumber("limit", t.Limit);
                w.WriteString("unit", t.Unit);
                if (t.Pass is bool p) w.WriteBoolean("pass", p);
                else w.WriteNull("pass");
                w.WriteString("detail", t.Detail);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("arms");
            foreach (var a in r.Arms)
            {
                w.WriteStartObject();
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
                Num(w, "p50Us", a.P50Us);
                Num(w, "p99Us", a.P99Us);
                Num(w, "p999Us", a.P999Us);
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
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("startup");
            foreach (var s in r.Startup)
            {
                w.WriteStartObject();
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
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void Num(Utf8JsonWriter w, string? name, double v)
    {
        if (name != null) w.WritePropertyName(name);
        if (double.IsFinite(v)) w.WriteNumberValue(Math.Round(v, 3));
        else w.WriteNullValue();
    }
}
