// Every request tag through EpmdService.Handle: request bytes in, a Decision and reply bytes out
// (the local/relaxed matrix, the restart race, NAMES/DUMP snapshots).
using FastEpmd.Diagnostics;
using FastEpmd.Registry;
using FastEpmd.Service;
using FastEpmd.Wire;

namespace FastEpmd.Tests.Unit.Service;

// Bytes in (the payload after the 2-byte length), a Decision and reply bytes out.
public class EpmdServiceTests
{
    private const long T0 = 1_700_000_000;
    private const ulong Owner = 0x0000_0001_0000_0003;   // generation 1, slot 3
    private const ulong Other = 0x0000_0002_0000_0004;

    // foo @ 1111, type M, proto 0, hi 6 / hi 5, lo 5, no extra
    private const string AliveFooV6 = "78 0457 4d 00 0006 0005 0003 666f6f 0000";
    private const string AliveFooV5 = "78 0457 4d 00 0005 0005 0003 666f6f 0000";
    private const string AliveBarV6 = "78 08ae 48 00 0006 0005 0003 626172 0002 4142";

    private long _clock = T0;
    private readonly List<string> _logged = new();

    private EpmdService Create(bool relaxed = false, int port = 4369, NodeRegistry? registry = null, int logLevel = -1) =>
        new(new EpmdOptions { Port = port, RelaxedCommandCheck = relaxed }, registry ?? new NodeRegistry(),
            new Log(logLevel, _logged.Add), () => _clock);

    private sealed record Outcome(AfterReply After, string Reply, int Record, ulong CloseOwner, bool Shared);

    private static Outcome Handle(EpmdService service, string hex, bool local = true, ulong token = Owner, int fd = 9,
        ulong liveOwner = 0) =>
        Handle(service, Hex.Parse(hex), local, token, fd, liveOwner);

    private static Outcome Handle(EpmdService service, byte[] request, bool local = true, ulong token = Owner, int fd = 9,
        ulong liveOwner = 0)
    {
        var reply = new byte[Limits.MaxSmallReply];
        var d = service.Handle(request, local, token, fd, reply, liveOwner);
        Assert.That(d.ProbeOwner, Is.Zero, "an unexpected owner probe");
        Assert.That(d.ShedSnapshot, Is.Zero, "an unexpected snapshot shed");
        if (d.Snapshot != 0)
        {
            Assert.That(d.ReplyLength, Is.EqualTo(0), "a shared reply and reply-span bytes at once");
            return new Outcome(d.After, Hex.Format(service.Snapshots.Bytes(d.Snapshot)), d.Record, d.CloseOwner, true);
        }
        return new Outcome(d.After, Hex.Format(reply.AsSpan(0, d.ReplyLength)), d.Record, d.CloseOwner, false);
    }

    private static readonly Outcome Silent = new(AfterReply.Close, "", 0, 0, false);

    private static string Text(string s) => Hex.Format(System.Text.Encoding.UTF8.GetBytes(s));

    // ---- ALIVE2_REQ ----

    [Test]
    public void Alive_v6_registers_and_replies_x_resp_with_the_creation()
    {
        var service = Create();
        var o = Handle(service, AliveFooV6, fd: 12);
        Assert.That(o.After, Is.EqualTo(AfterReply.KeepRegistration));
        Assert.That(o.Reply, Is.EqualTo("76 00 65 53 f1 01"));   // T0 + 1 = 0x6553f101
        int record = service.Registry.FindRegistered("foo"u8);
        Assert.That(o.Record, Is.EqualTo(record));
        Assert.That(service.Registry[record].Owner, Is.EqualTo(Owner));
        Assert.That(service.Registry[record].Fd, Is.EqualTo(12));
        Assert.That(service.Registry[record].Port, Is.EqualTo(1111));
    }

    [Test]
    public void Alive_v5_replies_resp_with_creation_mod_3_plus_1()
    {
        var service = Create();
        // 1700000001 % 3 == 0, so 1; each re-registration bumps the creation: 2, 3, 1.
        var expected = new[] { "79 00 00 01", "79 00 00 02", "79 00 00 03", "79 00 00 01" };
        foreach (var want in expected)
        {
            Assert.That(Handle(service, AliveFooV5).Reply, Is.EqualTo(want));
            service.Registry.Unregister(service.Registry.FindRegistered("foo"u8));
        }
    }

    [Test]
    public void Same_record_may_answer_v5_then_v6()
    {
        var service = Create();
        Assert.That(Handle(service, AliveFooV5).Reply, Is.EqualTo("79 00 00 01"));
        service.Registry.Unregister(service.Registry.FindRegistered("foo"u8));
        Assert.That(Handle(service, AliveFooV6).Reply, Is.EqualTo("76 00 65 53 f1 02"));
    }

    [Test]
    public void Alive_from_a_non_local_peer_is_silent_and_registers_nothing()
    {
        var service = Create(logLevel: 0);
        Assert.That(Handle(service, AliveFooV6, local: false), Is.EqualTo(Silent));
        Assert.That(service.Registry.RegisteredCount, Is.EqualTo(0));
        Assert.That(_logged, Has.Some.Contains("ALIVE2_REQ from non local address"));
    }

    [TestCase("78 0457 4d 00 0006 0005 0000 0000", TestName = "Alive of 13 bytes is silent")]
    [TestCase("78 0457 4d 00 0006 0005 0005 6162636465", TestName = "Alive with Nlen overflow is silent")]
    [TestCase("78 0457 4d 00 0006 0005 0005 677572 6b61 0001", TestName = "Alive with Elen overflow is silent")]
    [TestCase("78 0457 4d 00 0006 0005 0007 666f6f00626172 0000", TestName = "Alive with a NUL in the name is silent")]
    public void Alive_silent(string hex)
    {
        var service = Create();
        Assert.That(Handle(service, hex), Is.EqualTo(Silent));
        Assert.That(service.Registry.RegisteredCount, Is.EqualTo(0));
    }

    [Test]
    public void Alive_over_the_limits_is_refused_with_99_and_kept_open()
    {
        var service = Create();
        var name256 = TestBytes.Repeat("61", 256);
        var v6 = Hex.Cat(Hex.Parse("78 0457 4d 00 0006 0005 0100"), name256, Hex.Parse("0000"));
        var v5 = Hex.Cat(Hex.Parse("78 0457 4d 00 0005 0005 0100"), name256, Hex.Parse("0000"));
        var v0 = Hex.Cat(Hex.Parse("78 0457 4d 00 0000 0000 0100"), name256, Hex.Parse("0000"));
        Assert.That(Handle(service, v6), Is.EqualTo(new Outcome(AfterReply.KeepRefusedAlive, "76 01 00 00 00 63", 0, 0, false)));
        Assert.That(Handle(service, v5), Is.EqualTo(new Outcome(AfterReply.KeepRefusedAlive, "79 01 00 63", 0, 0, false)));
        Assert.That(Handle(service, v0), Is.EqualTo(new Outcome(AfterReply.KeepRefusedAlive, "79 01 00 63", 0, 0, false)));
        Assert.That(Handle(service, "78 0457 4d 00 0006 0005 0002 c080 0000").Reply, Is.EqualTo("76 01 00 00 00 63"));
        Assert.That(service.Registry.RegisteredCount, Is.EqualTo(0));
    }

    [Test]
    public void Alive_with_255_code_points_registers_but_cannot_be_looked_up()
    {
        var service = Create();
        var name = TestBytes.Repeat("f0 9f 98 88", 255);
        var alive = Hex.Cat(Hex.Parse("78 0457 4d 00 0006 0005 03fc"), name, Hex.Parse("0000"));
        Assert.That(Handle(service, alive).After, Is.EqualTo(AfterReply.KeepRegistration));
        Assert.That(Handle(service, Hex.Cat(Hex.Parse("7a"), name)), Is.EqualTo(Silent));
    }

    [Test]
    public void Alive_with_an_empty_name_registers_and_names_shows_two_spaces()
    {
        var service = Create();
        Assert.That(Handle(service, "78 0457 4d 00 0006 0005 0000 0001 41").After, Is.EqualTo(AfterReply.KeepRegistration));
        Assert.That(Handle(service, "6e").Reply, Is.EqualTo("00 00 11 11 " + Text("name  at port 1111\n")));
    }

    [Test]
    public void Duplicate_is_refused_and_the_owner_keeps_its_registration()
    {
        var service = Create(logLevel: 0);
        Handle(service, AliveFooV6, token: Owner);
        int record = service.Registry.FindRegistered("foo"u8);
        var o = Handle(service, "78 1111 48 00 0006 0005 0003 666f6f 0000", token: Other, liveOwner: Owner);
        Assert.That(o, Is.EqualTo(new Outcome(AfterReply.KeepRefusedAlive, "76 01 00 00 00 63", 0, 0, false)));
        Assert.That(service.Registry.FindRegistered("foo"u8), Is.EqualTo(record));
        Assert.That(service.Registry[record].Owner, Is.EqualTo(Owner));
        Assert.That(service.Registry[record].Port, Is.EqualTo(1111));
        Assert.That(_logged, Has.Some.Contains("node name already occupied foo"));
    }

    [Test]
    public void Duplicate_v5_is_refused_in_the_v5_form()
    {
        var service = Create();
        Handle(service, AliveFooV6, token: Owner);
        Assert.That(Handle(service, AliveFooV5, token: Other, liveOwner: Owner).Reply, Is.EqualTo("79 01 00 63"));
    }

    [Test]
    public void Duplicate_name_asks_the_reactor_to_probe_its_owner_and_decides_nothing_else()
    {
        var registry = new NodeRegistry();
        var service = Create(registry: registry);
        Handle(service, AliveFooV6, token: Owner);
        int record = registry.FindRegistered("foo"u8);
        var reply = new byte[Limits.MaxSmallReply];

        var d = service.Handle(Hex.Parse("78 1111 4d 00 0006 0005 0003 666f6f 0000"), true, Other, 10, reply);
        Assert.That(d.ProbeOwner, Is.EqualTo(Owner));
        Assert.That(d.ReplyLength, Is.Zero);
        Assert.That(d.Snapshot, Is.Zero);
        Assert.That(d.CloseOwner, Is.Zero);
        Assert.That(registry[record].Owner, Is.EqualTo(Owner), "a probe changes nothing");
    }

    [Test]
    public void Restart_race_with_a_dead_owner_registers_the_newcomer_once_the_owner_closed()
    {
        var registry = new NodeRegistry();
        var service = Create(registry: registry);
        Handle(service, AliveFooV6, token: Owner);
        int record = registry.FindRegistered("foo"u8);

        // What the reactor does when the probe finds the owner's socket gone: closes it, asks again.
        service.ConnectionClosed(record, Owner);
        Assert.That(registry.FindRegistered("foo"u8), Is.EqualTo(-1));
        var o = Handle(service, "78 1111 4d 00 0006 0005 0003 666f6f 0000", token: Other);
        Assert.That(o.After, Is.EqualTo(AfterReply.KeepRegistration));
        Assert.That(o.Reply, Is.EqualTo("76 00 65 53 f1 02"), "the name comes back with the next creation");
        Assert.That(o.Record, Is.EqualTo(record));
        Assert.That(registry[record].Owner, Is.EqualTo(Other));
        Assert.That(registry[record].Port, Is.EqualTo(0x1111));
    }

    [Test]
    public void Restart_race_with_a_live_owner_is_refused_and_the_owner_kept()
    {
        var registry = new NodeRegistry();
        var service = Create(registry: registry);
        Handle(service, AliveFooV6, token: Owner);
        int record = registry.FindRegistered("foo"u8);

        var o = Handle(service, "78 1111 4d 00 0006 0005 0003 666f6f 0000", token: Other, liveOwner: Owner);
        Assert.That(o, Is.EqualTo(new Outcome(AfterReply.KeepRefusedAlive, "76 01 00 00 00 63", 0, 0, false)));
        Assert.That(registry.FindRegistered("foo"u8), Is.EqualTo(record));
        Assert.That(registry[record].Owner, Is.EqualTo(Owner));
    }

    [Test]
    public void A_new_name_needs_no_probe()
    {
        var service = Create();
        Handle(service, AliveFooV6);
        var reply = new byte[Limits.MaxSmallReply];
        var d = service.Handle(Hex.Parse(AliveBarV6), true, Other, 10, reply);
        Assert.That(d.ProbeOwner, Is.Zero);
        Assert.That(d.After, Is.EqualTo(AfterReply.KeepRegistration));
    }

    [Test]
    public void Close_of_a_connection_that_no_longer_owns_the_record_changes_nothing()
    {
        var registry = new NodeRegistry();
        var service = Create(registry: registry, logLevel: 1);
        Handle(service, AliveFooV6, token: Owner);
        int record = registry.FindRegistered("foo"u8);
        service.ConnectionClosed(record, Other);
        service.ConnectionClosed(-1, Owner);
        Assert.That(registry.FindRegistered("foo"u8), Is.EqualTo(record));
        service.ConnectionClosed(record, Owner);
        Assert.That(registry.FindRegistered("foo"u8), Is.EqualTo(-1));
        Assert.That(_logged, Has.Some.Contains("unregistering 'foo:1700000001', port 1111"));
    }

    // ---- PORT_PLEASE2_REQ ----

    [TestCase(true)]
    [TestCase(false)]
    public void Port_please_finds_the_node_from_any_peer(bool local)
    {
        var service = Create();
        Handle(service, AliveBarV6);
        var o = Handle(service, "7a 626172", local);
        Assert.That(o, Is.EqualTo(new Outcome(AfterReply.Close, "77 00 08 ae 48 00 00 06 00 05 00 03 62 61 72 00 02 41 42", 0, 0, false)));
        Assert.That(Handle(service, "7a 626172 00", local).Reply, Is.EqualTo(o.Reply), "trailing NUL stripped");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Port_please_for_an_unknown_name_is_w_1(bool local)
    {
        var service = Create();
        Handle(service, AliveBarV6);
        Assert.That(Handle(service, "7a 626172 78", local), Is.EqualTo(new Outcome(AfterReply.Close, "77 01", 0, 0, false)));
        Assert.That(Handle(service, "7a 424152", local).Reply, Is.EqualTo("77 01"), "case-sensitive");
    }

    [Test]
    public void Port_please_for_an_unregistered_name_is_w_1()
    {
        var service = Create();
        Handle(service, AliveBarV6);
        service.Registry.Unregister(service.Registry.FindRegistered("bar"u8));
        Assert.That(Handle(service, "7a 626172").Reply, Is.EqualTo("77 01"));
    }

    [TestCase("7a")]
    [TestCase("7a 00")]
    [TestCase("7a 62 00 72")]
    [TestCase("7a 626172 0000")]
    [TestCase("7a c080")]
    public void Port_please_silent(string hex)
    {
        var service = Create();
        Handle(service, AliveBarV6);
        Assert.That(Handle(service, hex), Is.EqualTo(Silent));
    }

    // ---- NAMES_REQ / DUMP_REQ ----

    [Test]
    public void Names_of_an_empty_registry_is_the_port_alone()
    {
        Assert.That(Handle(Create(), "6e"), Is.EqualTo(new Outcome(AfterReply.Close, "00 00 11 11", 0, 0, true)));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Names_lists_newest_first_for_any_peer(bool local)
    {
        var service = Create(port: 14369);
        Handle(service, AliveFooV6, token: Owner);
        Handle(service, AliveBarV6, token: Other);
        var o = Handle(service, "6e", local);
        Assert.That(o.After, Is.EqualTo(AfterReply.Close));
        Assert.That(o.Reply, Is.EqualTo("00 00 38 21 " + Text("name bar at port 2222\nname foo at port 1111\n")));
    }

    [Test]
    public void Names_ignores_bytes_after_the_tag()
    {
        var service = Create();
        Handle(service, AliveFooV6);
        Assert.That(Handle(service, "6e 58 59 5a").Reply, Is.EqualTo("00 00 11 11 " + Text("name foo at port 1111\n")));
    }

    [Test]
    public void Names_reports_the_configured_port_not_the_bound_one()
    {
        Assert.That(Handle(Create(port: 80000), "6e").Reply, Is.EqualTo("00 01 38 80"));
    }

    [Test]
    public void Names_follows_every_registry_change_and_a_pinned_snapshot_keeps_its_bytes()
    {
        var service = Create();
        var snapshots = service.Snapshots;
        var reply = new byte[Limits.MaxSmallReply];
        Handle(service, AliveFooV6);
        int first = service.Handle(Hex.Parse("6e"), true, Owner, 9, reply).Snapshot;
        int again = service.Handle(Hex.Parse("6e"), true, Owner, 9, reply).Snapshot;
        Assert.That(again, Is.EqualTo(first), "cached while the registry is unchanged");
        snapshots.Pin(first);
        snapshots.Pin(first);

        Handle(service, AliveBarV6, token: Other);
        int changed = service.Handle(Hex.Parse("6e"), true, Owner, 9, reply).Snapshot;
        Assert.That(changed, Is.Not.EqualTo(first), "a pinned snapshot is never rewritten");
        Assert.That(Hex.Format(snapshots.Bytes(first)), Is.EqualTo("00 00 11 11 " + Text("name foo at port 1111\n")));
        Assert.That(Hex.Format(snapshots.Bytes(changed)), Is.EqualTo("00 00 11 11 " + Text("name bar at port 2222\nname foo at port 1111\n")));
        Assert.That(snapshots.Count, Is.EqualTo(2));

        snapshots.Unpin(first);
        Assert.That(snapshots.Count, Is.EqualTo(2), "still pinned once");
        snapshots.Unpin(first);
        Assert.That(snapshots.Count, Is.EqualTo(1), "a finished older snapshot is freed");
        service.Registry.Unregister(service.Registry.FindRegistered("bar"u8));
        Assert.That(Handle(service, "6e").Reply, Is.EqualTo("00 00 11 11 " + Text("name foo at port 1111\n")));
    }

    [Test]
    public void Names_with_many_nodes_grows_its_buffer()
    {
        var service = Create();
        var expected = new System.Text.StringBuilder();
        for (int i = 0; i < 300; i++)
        {
            var name = Hex.Ascii("node" + i);
            Handle(service, Hex.Cat(Hex.Parse("78"), Hex.U16(1000 + i), Hex.Parse("4d 00 0006 0005"), Hex.U16(name.Length), name, Hex.Parse("0000")),
                token: (ulong)(i + 1) << 32);
            expected.Insert(0, $"name node{i} at port {1000 + i}\n");
        }
        Assert.That(Handle(service, "6e").Reply, Is.EqualTo("00 00 11 11 " + Text(expected.ToString())));
    }

    [Test]
    public void Dump_lists_active_newest_first_then_remembered_oldest_first_with_nuls()
    {
        var service = Create();
        Handle(service, "78 0001 4d 00 0006 0005 0001 61 0000", token: 1UL << 32, fd: 5);
        Handle(service, "78 0002 4d 00 0006 0005 0001 62 0000", token: 2UL << 32, fd: 6);
        Handle(service, "78 0003 4d 00 0006 0005 0001 63 0000", token: 3UL << 32, fd: 7);
        Handle(service, "78 0004 4d 00 0006 0005 0001 64 0000", token: 4UL << 32, fd: 8);
        var registry = service.Registry;
        registry.Unregister(registry.FindRegistered("c"u8));
        registry.Unregister(registry.FindRegistered("a"u8));
        var o = Handle(service, "64");
        Assert.That(o.After, Is.EqualTo(AfterReply.Close));
        Assert.That(o.Reply, Is.EqualTo("00 00 11 11 " + Text(
            "active name     <d> at port 4, fd = 8\n\0" +
            "active name     <b> at port 2, fd = 6\n\0" +
            "old/unused name <c>, port = 3, fd = 7 \n\0" +
            "old/unused name <a>, port = 1, fd = 5 \n\0")));
    }

    [Test]
    public void Dump_from_a_non_local_peer_is_silent()
    {
        var service = Create();
        Handle(service, AliveFooV6);
        Assert.That(Handle(service, "64", local: false), Is.EqualTo(Silent));
    }

    [Test]
    public void Names_and_dump_do_not_share_a_cache()
    {
        var service = Create();
        Handle(service, AliveFooV6);
        Assert.That(Handle(service, "6e").Reply, Is.EqualTo("00 00 11 11 " + Text("name foo at port 1111\n")));
        Assert.That(Handle(service, "64").Reply, Is.EqualTo("00 00 11 11 " + Text("active name     <foo> at port 1111, fd = 9\n\0")));
        Assert.That(Handle(service, "6e").Reply, Is.EqualTo("00 00 11 11 " + Text("name foo at port 1111\n")));
    }

    // ---- KILL_REQ ----

    [TestCase(false)]
    [TestCase(true)]
    public void Kill_from_a_non_local_peer_is_silent(bool relaxed)
    {
        Assert.That(Handle(Create(relaxed), "6b", local: false), Is.EqualTo(Silent));
    }

    [Test]
    public void Kill_without_nodes_is_ok_and_stops_the_daemon()
    {
        Assert.That(Handle(Create(), "6b"), Is.EqualTo(new Outcome(AfterReply.StopDaemon, "4f 4b", 0, 0, false)));
    }

    [Test]
    public void Kill_with_live_nodes_is_no_unless_relaxed()
    {
        var strict = Create(logLevel: 0);
        Handle(strict, AliveFooV6);
        Assert.That(Handle(strict, "6b"), Is.EqualTo(new Outcome(AfterReply.Close, "4e 4f", 0, 0, false)));
        Assert.That(_logged, Has.Some.Contains("Disallowed KILL_REQ, live nodes"));
        Assert.That(strict.Registry.RegisteredCount, Is.EqualTo(1));

        var relaxed = Create(relaxed: true);
        Handle(relaxed, AliveFooV6);
        Assert.That(Handle(relaxed, "6b"), Is.EqualTo(new Outcome(AfterReply.StopDaemon, "4f 4b", 0, 0, false)));
    }

    [Test]
    public void Kill_looks_only_at_the_tag()
    {
        Assert.That(Handle(Create(), "6b 6a 75 6e 6b").Reply, Is.EqualTo("4f 4b"));
    }

    [Test]
    public void Kill_does_not_count_a_refused_alive_nor_a_remembered_name()
    {
        var service = Create();
        Handle(service, AliveFooV6, token: Owner);
        Handle(service, AliveFooV6, token: Other, liveOwner: Owner);   // refused duplicate
        service.Registry.Unregister(service.Registry.FindRegistered("foo"u8));
        Assert.That(Handle(service, "6b").Reply, Is.EqualTo("4f 4b"));
    }

    // ---- STOP_REQ ----

    [TestCase(false)]
    [TestCase(true)]
    public void Stop_from_a_non_local_peer_is_silent(bool relaxed)
    {
        var service = Create(relaxed);
        Handle(service, AliveFooV6);
        Assert.That(Handle(service, "73 666f6f", local: false, token: Other), Is.EqualTo(Silent));
        Assert.That(service.Registry.FindRegistered("foo"u8), Is.Not.EqualTo(-1));
    }

    [Test]
    public void Stop_without_relaxed_mode_is_silent_even_from_localhost()
    {
        var service = Create(logLevel: 0);
        Handle(service, AliveFooV6);
        Assert.That(Handle(service, "73 666f6f", token: Other), Is.EqualTo(Silent));
        Assert.That(Handle(service, "73 78787834 32", token: Other), Is.EqualTo(Silent));
        Assert.That(service.Registry.FindRegistered("foo"u8), Is.Not.EqualTo(-1));
        Assert.That(_logged, Has.Some.Contains("Disallowed STOP_REQ, no relaxed_command_check"));
    }

    [Test]
    public void Stop_of_a_registered_name_unregisters_it_and_names_its_owner_to_close()
    {
        var service = Create(relaxed: true);
        Handle(service, AliveFooV6, token: Owner);
        var o = Handle(service, "73 666f6f", token: Other);
        Assert.That(o, Is.EqualTo(new Outcome(AfterReply.Close, Text("STOPPED"), 0, Owner, false)));
        Assert.That(service.Registry.FindRegistered("foo"u8), Is.EqualTo(-1));
        Assert.That(service.Registry.RememberedCount, Is.EqualTo(1));
    }

    [Test]
    public void Stop_ignores_bytes_after_a_nul()
    {
        var service = Create(relaxed: true);
        Handle(service, AliveFooV6, token: Owner);
        Assert.That(Handle(service, "73 666f6f 00 6a756e6b", token: Other).Reply, Is.EqualTo(Text("STOPPED")));
    }

    [Test]
    public void Stop_of_an_unknown_name_is_noexist_then_stopped()
    {
        var service = Create(relaxed: true);
        Handle(service, AliveFooV6, token: Owner);
        Assert.That(Handle(service, "73 78787834 32", token: Other),
            Is.EqualTo(new Outcome(AfterReply.Close, "4e 4f 45 58 49 53 54 53 54 4f 50 50 45 44", 0, 0, false)));
        Assert.That(Handle(service, "73 666f", token: Other).Reply, Is.EqualTo(Text("NOEXISTSTOPPED")));
        Assert.That(service.Registry.FindRegistered("foo"u8), Is.Not.EqualTo(-1));
    }

    [Test]
    public void Stop_with_nothing_after_the_tag_is_silent()
    {
        Assert.That(Handle(Create(relaxed: true), "73"), Is.EqualTo(Silent));
    }

    // ---- everything else ----

    [TestCase("61")]          // a: old ALIVE_REQ
    [TestCase("70 666f6f")]   // p: old PORT_REQ
    [TestCase("72")]
    [TestCase("63")]
    [TestCase("79")]
    [TestCase("76")]
    [TestCase("77")]
    [TestCase("5a")]
    [TestCase("00")]
    [TestCase("ff 00 01")]
    public void Unknown_tags_are_silent(string hex)
    {
        var service = Create(relaxed: true);
        Handle(service, AliveFooV6);
        long version = service.Registry.Version;
        Assert.That(Handle(service, hex), Is.EqualTo(Silent));
        Assert.That(Handle(service, hex, local: false), Is.EqualTo(Silent));
        Assert.That(service.Registry.Version, Is.EqualTo(version));
    }
}
