// N registrations held on persistent connections (spread over child processes: 20,000
// descriptors per process here), PORT_PLEASE2 queries for held names on top. N = 1,000 compares
// FastEpmd with OTP; above that OTP's select() cannot take the connections, so FastEpmd at N is
// compared with FastEpmd at 1,000 in the same run.
using FastEpmd.Load.Harness;

namespace FastEpmd.Load.Scenarios;

internal sealed class Hold(int nodes) : Scenario
{
    public const int Baseline = 1000;
    public const string BaselineLabel = "FastEpmd @1000 held";

    public int Nodes => nodes;
    public override string Name => $"hold{nodes}";
    public override string Description => $"{nodes:N0} registrations held, PORT_PLEASE2 queries on top";
    public override int Concurrency => 8;
    public override int RoundsFor(Settings s) => MemoryOnly ? 1 : base.RoundsFor(s);
    // OTP spends ~120 us a query with 1,000 sockets in its select() set: 8,000/s would saturate it.
    public override double Rate(Settings s) => nodes <= Baseline ? s.QueryRate / 4 : s.QueryRate;

    /// <summary>hold10000 is for memory only (VmHWM with 10,000 held): FastEpmd alone, no baseline, no OTP probe.</summary>
    public bool MemoryOnly => nodes > Baseline && nodes < 19000;

    public override List<Arm> Setup(Settings s)
    {
        var arms = new List<Arm>();
        var fastepmd = Daemons(s).First();
        var otp = Daemons(s).FirstOrDefault(d => d.Kind == DaemonKind.Otp);
        try
        {
            if (nodes > Baseline && !MemoryOnly) arms.Add(HeldArm(fastepmd, Baseline, BaselineLabel));
            arms.Add(HeldArm(fastepmd, nodes, $"FastEpmd @{nodes} held"));
            if (otp != null && !MemoryOnly) arms.Add(HeldArm(otp, nodes, $"OTP epmd @{nodes} held"));
        }
        catch
        {
            foreach (var a in arms) a.Dispose();
            throw;
        }
        return arms;
    }

    private static Arm HeldArm(DaemonSpec spec, int count, string label)
    {
        var kind = spec.Kind;
        // FastEpmd's table must hold the registrations plus the queries in flight.
        var daemon = Daemon.Start(spec, maxConnections: count + 512, label: label);
        string prefix = kind == DaemonKind.FastEpmd ? "f" : "o";
        // OTP above its select() limit: probe with the first 1,100 registrations only (keeps the scenario short).
        int attempt = kind == DaemonKind.Otp && count > 1100 ? 1100 : count;
        HeldNodes held;
        try
        {
            // A refused registration costs a 2 s receive timeout: three in a row show OTP's ceiling.
            held = HeldNodes.Start(daemon.Port, prefix, attempt, stopAfterFailures: kind == DaemonKind.Otp ? 3 : 50);
        }
        catch
        {
            daemon.Dispose();
            throw;
        }
        // Queries rotate over the held names: each reply is that node's registration, byte for byte.
        int step = Math.Max(1, held.Registered / 997);
        var cases = Enumerable.Range(0, Math.Min(held.Registered, 997)).Select(k =>
        {
            int i = k * step;
            string name = HeldNodes.NameOf(prefix, i);
            return (Requests.PortPlease(name), Expected.ThenEof(Requests.PortFound(name, HeldNodes.PortOf(i))));
        }).ToList();
        var arm = new Arm(label, daemon, cases.Count > 0 ? new RotatingWorkload(cases) : null)
        {
            Registered = held.Registered,
            Note = $"registered in {held.Seconds:0.0} s",
        };
        arm.Owned.Add(held);
        if (held.Registered < count)
        {
            arm.Refused = $"accepted {held.Registered:N0} of the first {attempt:N0} registrations tried (select() caps at FD_SETSIZE 1024), so {count:N0} cannot be held";
            if (kind == DaemonKind.FastEpmd) throw new InvalidOperationException($"{label}: {arm.Refused}");
        }
        return arm;
    }
}
