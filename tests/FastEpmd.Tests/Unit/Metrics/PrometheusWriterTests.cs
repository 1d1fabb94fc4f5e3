// The exposition writer: 0.0.4 text, and an honest overflow flag when the buffer is short.
using System.Text;
using FastEpmd.Endpoints.Metrics;
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.CommandLine;
using FastEpmd.Service;

namespace FastEpmd.Tests.Unit.Metrics;

public class PrometheusWriterTests
{
    private static string Text(byte[] buffer, int length) => Encoding.ASCII.GetString(buffer, 0, length);

    [Test]
    public void FamiliesAndSamples_AreWrittenInTheTextFormat()
    {
        var buffer = new byte[512];
        var w = new PrometheusWriter(buffer);
        w.Family("fastepmd_x_total"u8, "counter"u8, "Things."u8);
        w.Sample("fastepmd_x_total"u8, "kind"u8, "a"u8, 42);
        w.Sample("fastepmd_x_total"u8, "kind"u8, "b"u8, "outcome"u8, "ok"u8, -7);
        w.Sample("fastepmd_y"u8, long.MaxValue);
        w.SampleMilliseconds("process_start_time_seconds"u8, 1_700_000_000_045);
        Assert.That(w.Overflow, Is.False);
        Assert.That(Text(buffer, w.Length), Is.EqualTo(
            "# HELP fastepmd_x_total Things.\n# TYPE fastepmd_x_total counter\n" +
            "fastepmd_x_total{kind=\"a\"} 42\n" +
            "fastepmd_x_total{kind=\"b\",outcome=\"ok\"} -7\n" +
            "fastepmd_y 9223372036854775807\n" +
            "process_start_time_seconds 1700000000.045\n"));
    }

    [Test]
    public void AShortBuffer_SetsOverflow_AndNeverWritesPastIt()
    {
        var buffer = new byte[40];
        var w = new PrometheusWriter(buffer.AsSpan(0, 30));
        w.Family("fastepmd_x_total"u8, "counter"u8, "Things."u8);
        w.Sample("fastepmd_x_total"u8, 1);
        Assert.That(w.Overflow, Is.True);
        Assert.That(w.Length, Is.LessThanOrEqualTo(30));
        Assert.That(buffer.AsSpan(30).ToArray(), Is.All.EqualTo(0));
    }

    [Test]
    public void TheWholeExposition_FitsTheResponseBuffer_AndNamesEveryFamilyOnce()
    {
        var buffer = new byte[MetricsEndpoint.BufferSize];
        var w = new PrometheusWriter(buffer.AsSpan(FastEpmd.Endpoints.Metrics.HttpResponse.HeaderRoom));
        var counters = new EpmdCounters { Accepted = long.MaxValue, BytesSent = long.MaxValue };
        var view = new MetricsView
        {
            Reactor = counters,
            Http = default,
            Service = new ServiceCounters(),
            Refusals = new AccessRefusals { OverPeerCap = 7 },
            Registrations = int.MaxValue,
            Connections = 3,
            TableSlots = int.MaxValue,
            ReplyMemoryBytes = long.MaxValue,
            ReplyMemoryBudgetBytes = long.MaxValue,
            MetricsConnections = 1,
            Version = "1.0.0"u8,
            StartUnixMs = 1_700_000_000_000,
        };
        MetricsExposition.Write(ref w, in view);
        Assert.That(w.Overflow, Is.False);
        var text = Encoding.ASCII.GetString(buffer, FastEpmd.Endpoints.Metrics.HttpResponse.HeaderRoom, w.Length);
        var types = text.Split('\n').Where(l => l.StartsWith("# TYPE ")).Select(l => l.Split(' ')[2]).ToList();
        Assert.That(types, Is.Unique);
        Assert.That(types, Does.Contain("fastepmd_registrations").And.Contain("fastepmd_duplicate_refusals_total")
            .And.Contain("fastepmd_build_info").And.Contain("process_start_time_seconds")
            .And.Contain("fastepmd_reply_memory_bytes").And.Contain("fastepmd_reply_memory_budget_bytes"));
        foreach (var type in types.Where(t => t.EndsWith("_total")))
            Assert.That(text, Does.Contain($"# TYPE {type} counter\n"));
        Assert.That(text, Does.Contain("fastepmd_build_info{version=\"1.0.0\"} 1\n"));
        Assert.That(text, Does.Contain("fastepmd_access_refusals_total{reason=\"over_peer_cap\"} 7\n"));
        Assert.That(text, Does.Contain("fastepmd_connections_accepted_total 9223372036854775807\n"));
    }
}
