// NAMES with N nodes registered (in order, so the expected text is exact, newest first). OTP
// writes one line per write(); FastEpmd sends a reply cached per registry version.
using FastEpmd.Load.Harness;

namespace FastEpmd.Load.Scenarios;

internal sealed class Names(int nodes) : Scenario
{
    public override string Name => $"names{nodes}";
    public override string Description => $"NAMES with {nodes:N0} nodes registered";

    // OTP's select() loop takes at most ~1,019 descriptors: 1,000 held leaves room for 8 in flight.
    public override int Concurrency => 8;

    // OTP writes one line per write(): ~1.8 ms of CPU per NAMES with 1,000 nodes, so 250/s is ~45% of a core.
    public override double Rate(Settings s) => nodes >= 1000 ? 250 : s.QueryRate / 2;

    public override List<Arm> Setup(Settings s)
    {
        var arms = new List<Arm>();
        var list = Enumerable.Range(0, nodes).Select(i => ($"n{i:D4}", (ushort)(20000 + i))).ToList();
        foreach (var spec in nodes <= 10 ? DaemonsWithFloor(s) : Daemons(s))
        {
            var daemon = Daemon.Start(spec);
            var held = Registrations.Register(daemon.Port, list);
            var expected = Expected.ThenEof(Requests.NamesReply(daemon.Port, Enumerable.Reverse(list)));
            var arm = new Arm(daemon.Label, daemon, new RotatingWorkload(Requests.Names, expected)) { Registered = held.Registered };
            arm.Owned.Add(held);
            arms.Add(arm);
            if (held.Registered != nodes) throw new InvalidOperationException($"{daemon.Label}: {held.Registered} of {nodes} registered");
        }
        return arms;
    }
}
