// What -metrics costs epmd clients: the query16 exchange against FastEpmd with metrics off and on,
// the "on" arm scraped every second as a Prometheus would (the scrapes' CPU is in its figure).
using FastEpmd.Load.Harness;

namespace FastEpmd.Load.Scenarios;

internal sealed class MetricsCost : Scenario
{
    public const string OffLabel = "FastEpmd, metrics off";
    public const string OnLabel = "FastEpmd, metrics on";

    public override string Name => "metrics";
    public override string Description => "PORT_PLEASE2 hit, -metrics off vs on (scraped every second)";
    public override int Concurrency => 16;
    public override double Rate(Settings s) => s.QueryRate;

    // More rounds than a cost cell: the verdict compares per-round ranges, as the tails do.
    public override int RoundsFor(Settings s) => s.Rounds;

    /// <summary>The last run's scraper: how many scrapes the "on" arm answered.</summary>
    public Scraper? Scraper { get; private set; }

    public override List<Arm> Setup(Settings s)
    {
        var off = new DaemonSpec(DaemonKind.FastEpmd, s.FastEpmdPath, Array.Empty<string>(), OffLabel);
        int metricsPort = FastEpmd.Testing.Ports.Free();
        var on = new DaemonSpec(DaemonKind.FastEpmd, s.FastEpmdPath, new[] { "-metrics", "127.0.0.1:" + metricsPort }, OnLabel);
        var request = Requests.PortPlease(Query.NodeName);
        var reply = Expected.ThenEof(Requests.PortFound(Query.NodeName, Query.NodePort));
        var offArm = Query.OneNodeArm(off, Query.NodeName, request, reply);
        var onArm = Query.OneNodeArm(on, Query.NodeName, request, reply);
        Scraper = new Scraper(metricsPort, TimeSpan.FromSeconds(1));
        onArm.Owned.Add(Scraper);
        return new List<Arm> { offArm, onArm };
    }
}
