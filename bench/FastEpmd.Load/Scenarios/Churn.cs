// ALIVE2 with a fresh name, read the reply, close: a node starting and stopping. The close is the
// deregistration, so each operation costs the daemon a register and an unregister.
using FastEpmd.Load.Harness;

namespace FastEpmd.Load.Scenarios;

internal sealed class Churn : Scenario
{
    public override string Name => "churn";
    public override string Description => "ALIVE2 register, then close (unregister)";
    public override int Concurrency => 16;
    public override double Rate(Settings s) => s.QueryRate / 2;

    public override List<Arm> Setup(Settings s) => DaemonsWithFloor(s).Select(spec =>
    {
        var daemon = Daemon.Start(spec);
        return new Arm(daemon.Label, daemon, new ChurnWorkload("churn"));
    }).ToList();
}
