// Registrations that outlive a reactor: one loop's ALIVE sockets (duplicated, as systemd's store or
// a handoff holds them) and its state image are taken back by a second loop. Real loopback nodes;
// each bad case of what is passed gets one log line and the safe result.
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using FastEpmd.Restart;
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.CommandLine;
using Tmds.Linux;
using FastEpmd.Tests.Pollers;

namespace FastEpmd.Tests.Loop;

[TestFixture(PollerBackend.Epoll)]
[TestFixture(PollerBackend.Kqueue)]
public class AdoptionLoopTests(PollerBackend backend)
{
    private static string Alive(string name, int port) =>
        Hex.Format(Hex.Frame(Hex.Cat(Hex.Parse("78"), Hex.U16(port), Hex.Parse("4d 00 0006 0005"), Hex.U16(name.Length), Hex.Ascii(name), Hex.Parse("0002 ab cd"))));

    private const string Created = "76 00 65 53 f1 01";

    /// <summary>Records what the reactor asks of a descriptor store.</summary>
    internal sealed class RecordingStore : IDescriptorStore
    {
        public List<string> Calls { get; } = new();
        public bool Recording { get; set; } = true;

        public void Store(ulong key, int fd)
        {
            if (Recording) Calls.Add("store " + key);
        }

        public void Remove(ulong key)
        {
            if (Recording) Calls.Add("remove " + key);
        }
    }

    private sealed class Handover : IDisposable
    {
        public Handover(PollerBackend backend, int nodes)
        {
            Old = new LoopHarness(backend, keepRegistrationsAtStop: true);
            for (int i = 0; i < nodes; i++) Nodes.Add(Old.Register(Alive("node" + i, 7000 + i), Created));
            Names = Old.Request("00 01 6e").Hex;
            Dump = Old.Request("00 01 64").Hex;
            Image = new byte[StateImage.Measure(Old.Registry)];
            StateImage.Encode(Old.Registry, Image);
            // What a store holds: its own copy of each socket. The old loop then lets go of its copies.
            foreach (var (key, fd) in Old.RegistrationDescriptors()) Passed.Add((StoreNames.Alive(key), LibC.dup(fd)));
            Old.Loop.Shutdown(0);
            New = new LoopHarness(backend, log: new Log(0, Logged.Add), store: Store, mirror: Mirror);
            Mirror.WriteAll(New.Registry);
        }

        public LoopHarness Old { get; }
        public LoopHarness New { get; }
        public List<Socket> Nodes { get; } = new();
        public string Names { get; }
        public string Dump { get; }
        public byte[] Image { get; }
        public List<(string Name, int Fd)> Passed { get; } = new();
        public List<string> Logged { get; } = new();
        public RecordingStore Store { get; } = new();

        /// <summary>The new loop's state image, as systemd's store keeps it (Image is the old loop's).</summary>
        public byte[] MirrorMemory { get; } = new byte[StateImage.LengthFor(MirrorSlots)];
        public StateMirror Mirror => _mirror ??= new StateMirror(MirrorMemory, MirrorSlots);
        private StateMirror? _mirror;
        private const int MirrorSlots = 64;
        public InheritedRegistrations? Applied { get; private set; }

        public int FdOf(int node) => Passed.Single(p => p.Name == StoreNames.Alive((ulong)node + 1)).Fd;

        public void Apply(byte[]? image = null)
        {
            Applied = InheritedRegistrations.From(image ?? Image, Passed);
            Applied.Apply(New.Service, New.Epmd, Store, Log(), removeStray: name => Store.Calls.Add("remove-name " + name));
        }

        private Log Log() => new(0, Logged.Add);

        public void Dispose()
        {
            New.Dispose();
            Old.Dispose();
        }
    }

    private static string WithoutFds(string dumpHex) => Regex.Replace(dumpHex, "(20 66 64 20 3d 20)( 3[0-9])+", "$1 N");

    [Test]
    public void Adopted_registrations_answer_names_dump_and_port_please_as_before()
    {
        using var t = new Handover(backend, 5);
        t.Apply();
        Assert.That(t.Applied!.Adopted, Is.EqualTo(5));
        Assert.That(t.Logged, Is.Empty);
        Assert.That(t.New.Request("00 01 6e").Hex, Is.EqualTo(t.Names));
        Assert.That(WithoutFds(t.New.Request("00 01 64").Hex), Is.EqualTo(WithoutFds(t.Dump)));
        Assert.That(t.New.Request("00 06 7a 6e6f646533").Hex, Is.EqualTo("77 00 1b 5b 4d 00 00 06 00 05 00 05 6e 6f 64 65 33 00 02 ab cd"));
        foreach (var node in t.Nodes) Assert.That(LoopHarness.Quiet(node), Is.True, "no node sees its connection end");
        Assert.That(t.Store.Calls, Is.Empty, "adopted sockets are already in the store");
    }

    [Test]
    public void An_exception_after_adoption_and_before_the_first_wait_leaves_every_adopted_registration_in_the_store()
    {
        using var t = new Handover(backend, 4);
        // As DaemonHost's start-up: adopt, then something throws before the loop's first wait, and
        // the using declarations release the endpoint and the loop on the way out.
        Assert.Throws<InvalidOperationException>(() =>
        {
            using var serving = t.New;
            t.Apply();
            Assert.That(t.Applied!.Adopted, Is.EqualTo(4));
            throw new InvalidOperationException("start-up failed after adoption");
        });
        Assert.That(t.Store.Calls, Is.Empty, "no socket left the descriptor store");
        Assert.That(t.New.Registry.RegisteredCount, Is.EqualTo(4), "Dispose deregistered nothing");
        var image = StateImage.Decode(t.MirrorMemory, out string? reason);
        Assert.That(reason, Is.Null);
        Assert.That(image!.Records.Count(r => r.State == FastEpmd.Registry.NodeState.Registered), Is.EqualTo(4),
            "every adopted registration is still registered in the stored state image");
    }

    [Test]
    public void An_adopted_node_that_closes_is_deregistered_and_leaves_the_store()
    {
        using var t = new Handover(backend, 2);
        t.Apply();
        t.Nodes[0].Close();
        for (int i = 0; i < 20 && t.New.Registry.RegisteredCount == 2; i++) t.New.Step(10);
        Assert.That(t.New.Registry.RegisteredCount, Is.EqualTo(1));
        Assert.That(t.Store.Calls, Is.EqualTo(new[] { "remove 1" }));
        // The name comes back with the next creation, as it would have under the old loop.
        var again = t.New.Register(Alive("node0", 7000), "76 00 65 53 f1 02");
        Assert.That(t.Store.Calls, Is.EqualTo(new[] { "remove 1", "store 3" }));
        Assert.That(again.Connected, Is.True);
    }

    [Test]
    public void A_node_that_closed_while_no_daemon_ran_is_dropped_as_a_deregistration()
    {
        using var t = new Handover(backend, 3);
        t.Nodes[1].Close();
        t.Apply();
        Assert.That(t.Applied!.Adopted, Is.EqualTo(2));
        Assert.That(t.Logged, Has.Count.EqualTo(1));
        Assert.That(t.Logged[0], Does.Contain("restored registration 'node1' (port 7001) dropped: its node closed the connection while no daemon ran"));
        Assert.That(t.Store.Calls, Is.EqualTo(new[] { "remove 2" }));
        Assert.That(Encoding.ASCII.GetString(t.New.Request("00 01 6e").Data), Does.Not.Contain("node1"));
        Assert.That(Encoding.ASCII.GetString(t.New.Request("00 01 64").Data), Does.Contain("old/unused name <node1>"));
    }

    [Test]
    public void A_node_that_sent_a_byte_while_no_daemon_ran_is_dropped_and_closed()
    {
        using var t = new Handover(backend, 2);
        t.Nodes[0].Send(new byte[] { 0x01 });
        Thread.Sleep(20);
        t.Apply();
        Assert.That(t.Logged.Single(), Does.Contain("'node0' (port 7000) dropped: its node sent data while no daemon ran"));
        Assert.That(LoopHarness.ClosedSilently(t.Nodes[0]), Is.True);
        Assert.That(LoopHarness.Quiet(t.Nodes[1]), Is.True);
    }

    [Test]
    public void A_node_reset_while_no_daemon_ran_is_dropped()
    {
        using var t = new Handover(backend, 2);
        SocketPairs.Reset(t.Nodes[1]);
        Thread.Sleep(20);
        t.Apply();
        Assert.That(t.Logged.Single(), Does.Contain("'node1' (port 7001) dropped: its"));
        Assert.That(t.New.Registry.RegisteredCount, Is.EqualTo(1));
    }

    [Test]
    public unsafe void A_stored_descriptor_that_is_not_a_socket_drops_its_registration()
    {
        using var t = new Handover(backend, 2);
        int* pipe = stackalloc int[2];
        Assert.That(LibC.pipe(pipe), Is.Zero);
        int index = t.Passed.FindIndex(p => p.Name == "alive-2");
        LibC.close(t.Passed[index].Fd);
        t.Passed[index] = ("alive-2", pipe[0]);
        t.Apply();
        Assert.That(t.Logged.Single(), Does.Match("'node1' \\(port 7001\\) dropped: fd [0-9]+ is a pipe or FIFO, not a socket"));
        Assert.That(LibC.fcntl(pipe[0], LibC.F_GETFD), Is.EqualTo(-1), "the pipe is closed");
        LibC.close(pipe[1]);
        Assert.That(t.New.Registry.RegisteredCount, Is.EqualTo(1));
        Assert.That(t.Store.Calls, Is.EqualTo(new[] { "remove 2" }));
    }

    [Test]
    public void A_name_in_the_image_with_no_descriptor_is_dropped()
    {
        using var t = new Handover(backend, 3);
        int index = t.Passed.FindIndex(p => p.Name == "alive-3");
        LibC.close(t.Passed[index].Fd);
        t.Passed.RemoveAt(index);
        t.Apply();
        Assert.That(t.Logged.Single(), Does.Contain("restored registration 'node2' (port 7002) dropped: no descriptor was passed for it"));
        Assert.That(Encoding.ASCII.GetString(t.New.Request("00 01 6e").Data), Does.Not.Contain("node2"));
        Assert.That(LoopHarness.ClosedSilently(t.Nodes[2]), Is.True, "with every copy of its socket closed, the node sees the end");
    }

    [Test]
    public void A_descriptor_with_no_name_or_an_unknown_key_is_closed()
    {
        using var t = new Handover(backend, 2);
        int node1 = t.Passed.FindIndex(p => p.Name == "alive-2");
        t.Passed[node1] = ("stored", t.Passed[node1].Fd);                    // systemd's name for "no FDNAME"
        t.Passed.Add(("alive-77", LibC.dup(t.FdOf(0))));                     // a key no registration has
        t.Apply();
        Assert.That(t.Logged, Has.Count.EqualTo(3));
        Assert.That(t.Logged[0], Does.Match("stored descriptor [0-9]+ named \"stored\" names no registration; closed"));
        Assert.That(t.Logged, Has.Some.Contains("restored registration 'node1' (port 7001) dropped: no descriptor was passed for it"));
        Assert.That(t.Logged, Has.Some.Match("stored descriptor [0-9]+ \\(alive-77\\) closed: no registration in the state image has it"));
        Assert.That(t.Store.Calls, Is.EquivalentTo(new[] { "remove-name stored", "remove 77" }));
        Assert.That(t.New.Registry.RegisteredCount, Is.EqualTo(1));
        Assert.That(LoopHarness.ClosedSilently(t.Nodes[1]), Is.True);
        Assert.That(LoopHarness.Quiet(t.Nodes[0]), Is.True, "node0 keeps its registration (its other copy is adopted)");
        // New keys start above every passed one.
        t.New.Register(Alive("later", 7100), Created);
        Assert.That(t.Store.Calls.Last(), Is.EqualTo("store 78"));
    }

    [TestCase(100, TestName = "A truncated image starts empty and closes every socket")]
    [TestCase(0, TestName = "No image at all starts empty and closes every socket")]
    public void A_bad_image_starts_empty(int keep)
    {
        using var t = new Handover(backend, 2);
        t.Apply(t.Image.AsSpan(0, keep).ToArray());
        Assert.That(t.Logged.Single(), Does.Contain(keep > 0
            ? "state image not used, starting with no registrations (2 stored sockets closed): state image truncated: 100 of"
            : "state image not used, starting with no registrations (2 stored sockets closed): state image of 0 bytes is shorter"));
        Assert.That(t.New.Registry.RegisteredCount + t.New.Registry.RememberedCount, Is.Zero);
        foreach (var node in t.Nodes) Assert.That(LoopHarness.ClosedSilently(node), Is.True, "a node with no registration must see its end and re-register");
        Assert.That(t.Store.Calls, Is.EquivalentTo(new[] { "remove 1", "remove 2" }));
    }

    [Test]
    public void Registrations_enter_the_store_when_registered_and_leave_on_close_or_stop()
    {
        var store = new RecordingStore();
        using var h = new LoopHarness(backend, new Service.EpmdOptions { RelaxedCommandCheck = true }, store: store, keepRegistrationsAtStop: true);
        var a = h.Register(Alive("a", 7000), Created);
        h.Register(Alive("b", 7001), Created);
        Assert.That(store.Calls, Is.EqualTo(new[] { "store 1", "store 2" }));
        a.Close();
        for (int i = 0; i < 20 && h.Registry.RegisteredCount == 2; i++) h.Step(10);
        Assert.That(h.Request("00 02 73 62").Hex, Is.EqualTo(Hex.Format(Hex.Ascii("STOPPED"))));
        Assert.That(store.Calls, Is.EqualTo(new[] { "store 1", "store 2", "remove 1", "remove 2" }));
        h.Register(Alive("c", 7002), Created);
        h.Loop.Shutdown(0);
        Assert.That(store.Calls.Last(), Is.EqualTo("store 3"), "a stop that keeps registrations removes nothing");
        Assert.That(h.Registry.RegisteredCount, Is.EqualTo(1), "and deregisters nothing");
    }
}
