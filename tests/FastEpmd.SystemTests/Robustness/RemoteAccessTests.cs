// Access rules from a real non-loopback peer (a remote peer gets PORT_PLEASE2 and NAMES; ALIVE2, DUMP, KILL and STOP close silently): the daemon runs in one network namespace,
// the client in another, joined by a veth pair. ALIVE2, DUMP, KILL and STOP from the remote
// address are closed silently, PORT_PLEASE2 and NAMES are answered, exactly as OTP's epmd does.
// Traffic stays inside the two namespaces the test creates (10.200.X.0/30) and deletes.
using System.Net.Sockets;

namespace FastEpmd.SystemTests.Robustness;

// Floods and exhaustion are machine-wide: these fixtures never share the machine with other tests.
[NonParallelizable]
public class RemoteAccessTests : RobustnessFixture
{
    private NetNamespace _ns = null!;

    [SetUp]
    public void CreateNamespaces()
    {
        if (!NetNamespace.IsRoot) Assert.Ignore("network namespaces need root (ip netns add); run the suite as root to check remote access rules");
        _ns = Track(NetNamespace.Create());
        Port = Ports.Free();   // the same port for both daemons: NAMES carries it
    }

    [Test]
    public void RemotePeerGetsOnlyPortPleaseAndNamesLikeOtp()
    {
        var fast = Scenario(Binaries.FastEpmd);
        foreach (var line in fast) Log("fastepmd  " + line);

        Assert.That(fast, Is.EqualTo(new[]
        {
            "ALIVE2 from remote: closed, no reply",
            "DUMP from remote: closed, no reply",
            "KILL from remote: closed, no reply",
            "STOP localnode from remote: closed, no reply",
            "PORT_PLEASE2 localnode from remote: " + Hex.Format(Replies.Port2Found("localnode", 5555)),
            "PORT_PLEASE2 remote from remote: 77 01",
            "NAMES from remote: " + Hex.Format(Replies.NamesReply(Port, new[] { ("localnode", 5555) })),
            "ALIVE2 from the host's own veth address: 76 00 <creation>",
            "after: daemon running, localnode registered, remote not registered",
        }));

        if (!File.Exists(Binaries.Otp)) Assert.Ignore($"{Binaries.Otp} is not installed: FastEpmd checked alone");
        var otp = Scenario(Binaries.Otp);
        foreach (var line in otp) Log("OTP epmd  " + line);
        Assert.That(fast, Is.EqualTo(otp), "FastEpmd refuses and answers remote peers exactly as OTP's epmd");
    }

    private int Port { get; set; }

    private List<string> Scenario(string binary)
    {
        int port = Port;
        string server = _ns.ServerAddress;
        // Relaxed, so that a refused KILL or STOP is refused for being remote, not for being strict.
        var daemon = Track(_ns.StartDaemon(binary, port, "-relaxed_command_check"));
        var holder = Track(NetNamespace.RunIn(_ns.Server, () => RawEpmdClient.RegisterOk(port, "localnode", 5555, out _)));
        var outcomes = NetNamespace.RunIn(_ns.Client, () =>
        {
            var results = new List<string>();
            void Ask(string label, byte[] request)
            {
                using var c = RawEpmdClient.Connect(port, server);
                Assert.That(((System.Net.IPEndPoint)c.Socket.LocalEndPoint!).Address.ToString(), Is.EqualTo(_ns.ClientAddress));
                c.Send(request);
                var r = c.ReadToEnd(TimeSpan.FromSeconds(3));
                results.Add($"{label}: " + (!r.Closed ? "still open after 3 s " + r.HexData : r.Data.Length == 0 ? "closed, no reply" : r.HexData));
            }
            Ask("ALIVE2 from remote", Requests.Alive("remote", port: 6000));
            Ask("DUMP from remote", Requests.Dump);
            Ask("KILL from remote", Requests.Kill);
            Ask("STOP localnode from remote", Requests.Stop("localnode"));
            Ask("PORT_PLEASE2 localnode from remote", Requests.PortPlease("localnode"));
            Ask("PORT_PLEASE2 remote from remote", Requests.PortPlease("remote"));
            Ask("NAMES from remote", Requests.Names);
            return results;
        });
        // OTP: a peer whose address equals the socket's local address is local too.
        outcomes.Add(NetNamespace.RunIn(_ns.Server, () =>
        {
            using var c = RawEpmdClient.Connect(port, server);
            c.Send(Requests.Alive("selfaddr", port: 7000));
            var reply = c.ReadExactly(6, TimeSpan.FromSeconds(3));
            return "ALIVE2 from the host's own veth address: " + (reply.Length == 6 ? Hex.Format(reply.AsSpan(0, 2)) + " <creation>" : Hex.Format(reply));
        }));
        var after = NetNamespace.RunIn(_ns.Server, () => (
            Local: RawEpmdClient.Query(port, Requests.PortPlease("localnode")).Data,
            Remote: RawEpmdClient.Query(port, Requests.PortPlease("remote")).Data));
        bool running = !daemon.HasExited && !RawEpmdClient.ClosedByPeer(holder);
        outcomes.Add($"after: daemon {(running ? "running" : "gone")}, localnode " +
            (after.Local.AsSpan().SequenceEqual(Replies.Port2Found("localnode", 5555)) ? "registered" : "lost: " + Hex.Format(after.Local)) +
            ", remote " + (after.Remote.AsSpan().SequenceEqual(Replies.Port2NotFound) ? "not registered" : "registered: " + Hex.Format(after.Remote)));
        holder.Dispose();
        daemon.Dispose();
        return outcomes;
    }
}
