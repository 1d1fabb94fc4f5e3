// PORT_PLEASE2 for a registered node, one-shot connections: what every distributed Erlang
// connection attempt costs epmd.
using FastEpmd.Load.Harness;

namespace FastEpmd.Load.Scenarios;

internal sealed class Query(int concurrency) : Scenario
{
    public const string NodeName = "bench";
    public const ushort NodePort = 4711;

    public override string Name => $"query{concurrency}";
    public override string Description => "PORT_PLEASE2 hit, one-shot connections";
    public override int Concurrency => concurrency;
    public override double Rate(Settings s) => s.QueryRate;

    // The cells a user compares tails in: full rounds, per-round p99/p99.9, verdicts.
    public override bool TailCell => true;
    public override bool ClosedLoop => true;

    public override List<Arm> Setup(Settings s) => DaemonsWithFloor(s).Select(spec => OneNodeArm(spec, NodeName,
        Requests.PortPlease(NodeName), Expected.ThenEof(Requests.PortFound(NodeName, NodePort)))).ToList();

    /// <summary>A daemon with one node registered, queried with one request.</summary>
    public static Arm OneNodeArm(DaemonSpec spec, string registered, byte[] request, Expected reply)
    {
        var daemon = Daemon.Start(spec);
        var arm = new Arm(daemon.Label, daemon, new RotatingWorkload(request, reply));
        var held = Registrations.Register(daemon.Port, new[] { (registered, NodePort) });
        arm.Owned.Add(held);
        arm.Registered = held.Registered;
        if (held.Registered != 1) throw new InvalidOperationException($"{daemon.Label}: registration failed");
        return arm;
    }
}
