// One IPv6 host is one peer: from 200 addresses of one /64 (a veth in a network namespace of this
// test, names with "mem"), an attacker holds at most -max_per_peer connections, while a remote
// client from another peer (IPv4, and IPv6 from another /64) and a local node are served. Before
// -max_per_peer counted IPv6 peers by /64, each address had its own cap and the 200 held 1,000.
using System.Net;
using System.Net.Sockets;

namespace FastEpmd.SystemTests.Robustness;

[NonParallelizable]
public class PeerPrefixFloodTests : RobustnessFixture
{
    private const int Cap = 16, Addresses = 200, PerAddress = 5;
    // One /48 on the link: the server, a legitimate client's /64 and the attacker's /64.
    private const string Server6 = "fd6d:0:0:1::1", Legit6 = "fd6d:0:0:e5::1";

    /// <summary>Readable with nothing to read (EOF) or reset: the daemon closed it; a held one is silent.</summary>
    private static bool ClosedByTheDaemon(Socket s)
    {
        try
        {
            return s.Poll(0, SelectMode.SelectRead) && s.Available == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private static string Attacker(int i) => $"fd6d:0:0:e4::{i + 1:x}";

    [Test]
    public void Two_hundred_addresses_of_one_64_hold_at_most_the_cap_and_everyone_else_is_served()
    {
        if (!NetNamespace.IsRoot) Assert.Ignore("network namespaces need root (ip netns add)");
        var ns = Track(NetNamespace.Create("mem"));
        ns.AddAddress(ns.Server, NetNamespace.ServerLink, Server6 + "/48");
        ns.AddAddress(ns.Client, NetNamespace.ClientLink, Legit6 + "/48");
        for (int i = 0; i < Addresses; i++) ns.AddAddress(ns.Client, NetNamespace.ClientLink, Attacker(i) + "/48");
        int port = Ports.Free();
        // -defer_accept 0: a silent connection is accepted (and counted) at once.
        var daemon = Track(ns.StartDaemon(Binaries.FastEpmd, port, "-max_per_peer", Cap.ToString(), "-defer_accept", "0"));
        var node = Track(NetNamespace.RunIn(ns.Server, () => RawEpmdClient.RegisterOk(port, "localnode", 5555, out _)));

        var flood = NetNamespace.RunIn(ns.Client, () =>
        {
            var sockets = new List<Socket>();
            for (int round = 0; round < PerAddress; round++)
            {
                for (int i = 0; i < Addresses; i++)
                {
                    var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
                    s.Bind(new IPEndPoint(IPAddress.Parse(Attacker(i)), 0));
                    try
                    {
                        s.Connect(IPAddress.Parse(Server6), port);
                    }
                    catch (SocketException)
                    {
                        s.Dispose();
                        continue;
                    }
                    sockets.Add(s);
                }
            }
            return sockets;
        });
        foreach (var s in flood) Track(s);

        // Let the daemon accept and close what is over the cap, then count what it still holds.
        Thread.Sleep(1500);
        int held = flood.Count(s => !ClosedByTheDaemon(s));
        TestContext.Out.WriteLine($"{flood.Count} connections from {Addresses} addresses of fd6d:0:0:e4::/64: {held} held (cap {Cap})");
        Assert.That(held, Is.LessThanOrEqualTo(Cap), "one /64 is one peer");
        Assert.That(held, Is.EqualTo(Cap), "and it gets its cap");

        var served = NetNamespace.RunIn(ns.Client, () => new[] { ns.ClientAddress, Legit6 }.Select(source =>
        {
            var from = IPAddress.Parse(source);
            using var s = new Socket(from.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(from, 0));
            s.Connect(IPAddress.Parse(from.AddressFamily == AddressFamily.InterNetwork ? ns.ServerAddress : Server6), port);
            s.Send(Requests.PortPlease("localnode"));
            return Hex.Format(RawEpmdClient.ReadToEnd(s, 3000).Data);
        }).ToList());
        string found = Hex.Format(Replies.Port2Found("localnode", 5555));
        Assert.That(served, Is.EqualTo(new[] { found, found }), "a remote IPv4 client and an IPv6 one of another /64 are answered");
        var local = NetNamespace.RunIn(ns.Server, () => RawEpmdClient.Query(port, Requests.PortPlease("localnode")));
        Assert.That(Hex.Format(local.Data), Is.EqualTo(found), "local lookups are answered");
        Assert.That(daemon.HasExited, Is.False, daemon.Stderr);
    }
}
