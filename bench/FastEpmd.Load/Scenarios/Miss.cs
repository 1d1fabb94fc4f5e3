// PORT_PLEASE2 for a name nobody registered (one other node is): the "w 1" reply.
using FastEpmd.Load.Harness;

namespace FastEpmd.Load.Scenarios;

internal sealed class Miss : Scenario
{
    public override string Name => "miss";
    public override string Description => "PORT_PLEASE2 miss, one-shot connections";
    public override int Concurrency => 16;
    public override double Rate(Settings s) => s.QueryRate;

    public override List<Arm> Setup(Settings s) => DaemonsWithFloor(s).Select(spec => Query.OneNodeArm(spec, Query.NodeName,
        Requests.PortPlease("nosuchnode"), Expected.ThenEof(Requests.PortNotFound))).ToList();
}
