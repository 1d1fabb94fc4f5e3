// The real loop over loopback sockets, stepped on this thread with a fake clock: framing,
// deadlines, the full table and the life of a registration's socket.
using System.Net.Sockets;
using FastEpmd.Service;
using FastEpmd.Tests.Pollers;

namespace FastEpmd.Tests.Loop;

[TestFixture(PollerBackend.Epoll)]
[TestFixture(PollerBackend.Kqueue)]
public class ReactorLoopTests(PollerBackend backend)
{
    // alpha @ 0x9d6d, as an OTP 25 node sends it; 2 + 0x12 bytes.
    private const string AliveAlpha = "00 12 78 9d6d 4d 00 0006 0005 0005 616c706861 0000";
    private const string AliveAlphaV5 = "00 12 78 9d6d 4d 00 0005 0005 0005 616c706861 0000";
    private const string AliveBeta = "00 11 78 2710 48 00 0006 0005 0004 62657461 0000";
    private const string AliveAlphaOk = "76 00 65 53 f1 01";   // creation = clock 1700000000 + 1
    private const string Refused = "76 01 00 00 00 63";
    private const string PortPleaseAlpha = "00 06 7a 616c706861";
    private const string AlphaFound = "77 00 9d6d 4d 00 0006 0005 0005 616c706861 0000";
    private const string NamesHeader = "00 00 11 11";

    private static string H(string hex) => Hex.Format(Hex.Parse(hex));
    private static string Text(string s) => Hex.Format(System.Text.Encoding.UTF8.GetBytes(s));

    [Test]
    public void Requests_are_served_within_a_few_steps()
    {
        using var h = new LoopHarness(backend);
        var node = h.Send(h.Connect(), AliveAlpha);
        var registered = h.Run(node, expectBytes: 6);
        Assert.That(registered.Hex, Is.EqualTo(H(AliveAlphaOk)));
        Assert.That(registered.Steps, Is.LessThanOrEqualTo(3));

        var lookup = h.Request(PortPleaseAlpha);
        Assert.That(lookup.Hex, Is.EqualTo(H(AlphaFound)));
        Assert.That(lookup.Closed, Is.True);
        Assert.That(lookup.Steps, Is.LessThanOrEqualTo(3));

        var names = h.Request("00 01 6e");
        Assert.That(names.Hex, Is.EqualTo(NamesHeader + " " + Text("name alpha at port 40301\n")));
        Assert.That(h.Request("00 06 7a 6f6d656761").Hex, Is.EqualTo("77 01"));
        Assert.That(LoopHarness.Quiet(node), Is.True, "the registration is still open");
    }

    [Test]
    public void Version_5_registration_gets_the_short_reply()
    {
        using var h = new LoopHarness(backend);
        h.Register(AliveAlphaV5, "79 00 00 01");   // 1700000001 % 3 + 1
    }

    [Test]
    public void Request_split_byte_by_byte_is_served()
    {
        using var h = new LoopHarness(backend);
        h.Register(AliveAlpha, AliveAlphaOk);
        var client = h.Connect();
        var bytes = Hex.Parse(PortPleaseAlpha);
        for (int i = 0; i < bytes.Length - 1; i++)
        {
            client.Send(bytes, i, 1, SocketFlags.None);
            h.Step(5);
            Assert.That(LoopHarness.Quiet(client), Is.True, $"answered after {i + 1} of {bytes.Length} bytes");
        }
        client.Send(bytes, bytes.Length - 1, 1, SocketFlags.None);
        var e = h.Run(client);
        Assert.That(e.Hex, Is.EqualTo(H(AlphaFound)));
        Assert.That(e.Closed, Is.True);
    }

    [Test]
    public void Alive_split_byte_by_byte_registers()
    {
        using var h = new LoopHarness(backend);
        var client = h.Connect();
        foreach (byte b in Hex.Parse(AliveAlpha))
        {
            Assert.That(LoopHarness.Quiet(client), Is.True);
            client.Send(new[] { b });
            h.Step(5);
        }
        Assert.That(h.Run(client, expectBytes: 6).Hex, Is.EqualTo(H(AliveAlphaOk)));
        Assert.That(h.Registry.FindRegistered("alpha"u8), Is.Not.EqualTo(-1));
    }

    [Test]
    public void Half_close_after_a_full_request_still_gets_the_reply()
    {
        using var h = new LoopHarness(backend);
        h.Register(AliveAlpha, AliveAlphaOk);
        var client = h.Send(h.Connect(), PortPleaseAlpha);
        client.Shutdown(SocketShutdown.Send);
        Assert.That(h.Run(client).Hex, Is.EqualTo(H(AlphaFound)));
    }

    [Test]
    public void Half_close_before_the_request_is_complete_closes_silently()
    {
        using var h = new LoopHarness(backend);
        var client = h.Send(h.Connect(), "00 06 7a 61");
        client.Shutdown(SocketShutdown.Send);
        var e = h.Run(client);
        Assert.That(e.Closed, Is.True);
        Assert.That(e.Data, Is.Empty);
    }

    [TestCase("00 01 6e 00", TestName = "Names and one more byte in one segment close silently")]
    [TestCase("00 01 6e 00 01 6e", TestName = "Two names frames in one segment close silently")]
    [TestCase("00 00", TestName = "Zero length closes silently")]
    [TestCase("0b f2", TestName = "Length 3058 closes silently on the header alone")]
    [TestCase("ff ff", TestName = "Length 65535 closes silently on the header alone")]
    [TestCase("00 01 61", TestName = "Old ALIVE_REQ tag closes silently")]
    [TestCase("00 01 73", TestName = "Stop without relaxed mode closes silently")]
    public void Silent_close(string hex)
    {
        using var h = new LoopHarness(backend);
        var e = h.Request(hex);
        Assert.That(e.Closed, Is.True);
        Assert.That(e.Data, Is.Empty);
    }

    [Test]
    public void Alive_coalesced_with_one_more_byte_registers_nothing()
    {
        using var h = new LoopHarness(backend);
        var e = h.Request(AliveAlpha + " 00");
        Assert.That(e.Closed, Is.True);
        Assert.That(e.Data, Is.Empty);
        Assert.That(h.Registry.RegisteredCount, Is.EqualTo(0));
    }

    [Test]
    public void Largest_legal_frame_is_read_whole()
    {
        // Length 3057, the largest OTP reads: ALIVE2 with the largest name (255 x 4 bytes) and
        // extra (1020), then 1004 bytes of junk inside the frame, which are ignored.
        using var h = new LoopHarness(backend);
        var name = TestBytes.Repeat("f0 9f 98 88", 255);
        var payload = Hex.Cat(Hex.Parse("78 0457 4d 00 0006 0005 03fc"), name, Hex.Parse("03fc"), TestBytes.Repeat("ee", 1020),
            TestBytes.Repeat("55", 3057 - 13 - 1020 - 1020));
        Assert.That(payload.Length, Is.EqualTo(3057));
        var client = h.Connect();
        client.Send(Hex.Frame(payload));
        Assert.That(h.Run(client, expectBytes: 6).Hex, Is.EqualTo(H(AliveAlphaOk)));
        int record = h.Registry.FindRegistered(name);
        Assert.That(record, Is.Not.EqualTo(-1));
        Assert.That(h.Registry.Extra(record).ToArray(), Is.EqualTo(TestBytes.Repeat("ee", 1020)));
    }

    // ---- deadlines, on the fake clock ----

    [Test]
    public void Idle_connection_is_closed_at_the_packet_timeout_and_not_before()
    {
        // OTP's whole-second rule closes after N + 1 s of silence (measured: N = 2 after 3.0 s).
        using var h = new LoopHarness(backend, new EpmdOptions { PacketTimeoutSeconds = 3 });
        var client = h.Connect();
        h.Step();
        Assert.That(h.Epmd.Count, Is.EqualTo(1), "accepted");

        h.NowMs = LoopHarness.StartMs + 3_999;
        h.Step();
        Assert.That(LoopHarness.Quiet(client), Is.True, "closed before the deadline");
        Assert.That(h.Epmd.Count, Is.EqualTo(1));

        h.NowMs = LoopHarness.StartMs + 4_001;
        h.Step();
        Assert.That(LoopHarness.ClosedSilently(client), Is.True, "still open after the deadline");
        Assert.That(h.Epmd.Count, Is.EqualTo(0));
        Assert.That(h.Epmd.Counters.Timeouts, Is.EqualTo(1));
    }

    [Test]
    public void Partial_request_is_closed_at_the_packet_timeout()
    {
        // epmd_SUITE partial_packet: a header claiming 100 bytes and 16 of them.
        using var h = new LoopHarness(backend, new EpmdOptions { PacketTimeoutSeconds = 1 });
        var client = h.Send(h.Connect(), "00 64 " + Hex.Format(TestBytes.Repeat("61", 16)));
        h.Step();
        h.NowMs += 1_999;
        h.Step();
        Assert.That(LoopHarness.Quiet(client), Is.True);
        h.NowMs += 2;
        h.Step();
        Assert.That(LoopHarness.ClosedSilently(client), Is.True);
    }

    [Test]
    public void Every_byte_read_restarts_the_packet_timer()
    {
        using var h = new LoopHarness(backend, new EpmdOptions { PacketTimeoutSeconds = 2 });
        var client = h.Connect();
        h.Step();
        var bytes = Hex.Parse("00 06 7a 61");
        long last = LoopHarness.StartMs;
        for (int i = 0; i < bytes.Length; i++)
        {
            h.NowMs = last + 2_900;   // just inside the 3 s of silence OTP allows under N = 2
            client.Send(bytes, i, 1, SocketFlags.None);
            h.Step(5);
            Assert.That(LoopHarness.Quiet(client), Is.True, $"closed {h.NowMs - LoopHarness.StartMs} ms after accept");
            last = h.NowMs;
        }
        Assert.That(last - LoopHarness.StartMs, Is.GreaterThan(3 * 2_900 - 1), "outlived several packet timeouts");
        h.NowMs = last + 2_999;
        h.Step();
        Assert.That(LoopHarness.Quiet(client), Is.True);
        h.NowMs = last + 3_001;
        h.Step();
        Assert.That(LoopHarness.ClosedSilently(client), Is.True, "3 s of silence after the last byte");
        Assert.That(h.Epmd.Counters.Timeouts, Is.EqualTo(1));
        Assert.That(h.Epmd.Counters.RequestDeadlines, Is.EqualTo(0));
    }

    [Test]
    public void Dribbler_that_never_goes_idle_is_closed_at_the_request_deadline()
    {
        // OTP 25 refreshes its idle timer on every read, so one byte a second keeps a connection
        // forever (slow-loris: how CVE-2026-42792's EMFILE exit is reached, not the CVE itself).
        // The whole-request deadline counts from accept and ends it.
        using var h = new LoopHarness(backend, new EpmdOptions { PacketTimeoutSeconds = 1, RequestDeadlineMs = 5_000 });
        var client = h.Connect();
        h.Step();
        var bytes = Hex.Parse("00 40 7a 61 61 61 61 61 61 61");
        for (int i = 0; i < bytes.Length && (i + 1) * 600 < 5_000; i++)
        {
            h.NowMs = LoopHarness.StartMs + 600 * (i + 1);   // 600 .. 4800 ms, never 2 s idle
            client.Send(bytes, i, 1, SocketFlags.None);
            h.Step(5);
            Assert.That(LoopHarness.Quiet(client), Is.True, $"closed at {h.NowMs - LoopHarness.StartMs} ms");
        }
        h.NowMs = LoopHarness.StartMs + 4_999;
        h.Step();
        Assert.That(LoopHarness.Quiet(client), Is.True);
        h.NowMs = LoopHarness.StartMs + 5_001;
        h.Step();
        Assert.That(LoopHarness.ClosedSilently(client), Is.True, "a client sending a byte every 600 ms outlived the 5 s deadline");
        Assert.That(h.Epmd.Counters.RequestDeadlines, Is.EqualTo(1));
        Assert.That(h.Epmd.Counters.Timeouts, Is.EqualTo(0));
    }

    [Test]
    public void Port_please_sent_with_1_s_gaps_under_packet_timeout_1_is_served()
    {
        // epmd_SUITE slow_get_port_nr: header and tag, then one byte a second; OTP 25 answers after 3 s.
        using var h = new LoopHarness(backend, new EpmdOptions { PacketTimeoutSeconds = 1 });
        var beta = h.Register(AliveBeta, "76 00 65 53 f1 01");
        long start = h.NowMs;
        var client = h.Connect();
        var chunks = new[] { "00 05 7a 62", "65", "74", "61" };
        for (int i = 0; i < chunks.Length; i++)
        {
            h.NowMs = start + 1_000 * i + 10 * i;   // a little over 1 s apart, as timer:sleep(1000) is
            h.Send(client, chunks[i]);
            h.Step(5);
            if (i < chunks.Length - 1) Assert.That(LoopHarness.Quiet(client), Is.True, $"closed after chunk {i}");
        }
        var e = h.Run(client);
        Assert.That(e.Hex, Is.EqualTo(H("77 00 2710 48 00 0006 0005 0004 62657461 0000")));
        Assert.That(e.Closed, Is.True);
        Assert.That(h.NowMs - start, Is.GreaterThanOrEqualTo(3_000));
        Assert.That(LoopHarness.Quiet(beta), Is.True);
    }

    [Test]
    public void Request_deadline_below_the_packet_timeout_is_raised_to_it()
    {
        using var h = new LoopHarness(backend, new EpmdOptions { PacketTimeoutSeconds = 2, RequestDeadlineMs = 500 });
        var client = h.Send(h.Connect(), "00 06 7a 61");
        h.Step();
        h.NowMs += 2_999;
        h.Step();
        Assert.That(LoopHarness.Quiet(client), Is.True, "the deadline cut below the packet timeout");
        h.NowMs += 2;
        h.Step();
        Assert.That(LoopHarness.ClosedSilently(client), Is.True);
    }

    [Test]
    public void Registration_never_times_out()
    {
        using var h = new LoopHarness(backend, new EpmdOptions { PacketTimeoutSeconds = 1 });
        var node = h.Register(AliveAlpha, AliveAlphaOk);
        h.NowMs += 10 * 3600 * 1000L;
        h.Step();
        Assert.That(LoopHarness.Quiet(node), Is.True);
        Assert.That(h.Registry.FindRegistered("alpha"u8), Is.Not.EqualTo(-1));
    }

    [Test]
    public void Refused_alive_connection_is_kept_then_closed_after_one_packet_timeout()
    {
        // OTP keeps a refused ALIVE2 socket forever; we keep it open (erl_epmd closes it itself)
        // but only for one packet timeout (N + 1 s, as the idle timer), counted from the refusal.
        using var h = new LoopHarness(backend, new EpmdOptions { PacketTimeoutSeconds = 5 });
        var owner = h.Register(AliveAlpha, AliveAlphaOk);
        h.NowMs += 1_000;
        long refusedAt = h.NowMs;
        var duplicate = h.Register(AliveAlpha, Refused);

        h.NowMs = refusedAt + 5_999;
        h.Step();
        Assert.That(LoopHarness.Quiet(duplicate), Is.True, "closed before the deadline");
        h.NowMs = refusedAt + 6_001;
        h.Step();
        Assert.That(LoopHarness.ClosedSilently(duplicate), Is.True);
        Assert.That(LoopHarness.Quiet(owner), Is.True, "the owner is untouched");
        Assert.That(h.Registry.FindRegistered("alpha"u8), Is.Not.EqualTo(-1));
    }

    [Test]
    public void Refused_alive_connection_closes_on_any_byte_and_the_owner_stays()
    {
        using var h = new LoopHarness(backend);
        var owner = h.Register(AliveAlpha, AliveAlphaOk);
        var duplicate = h.Register(AliveAlpha, Refused);
        duplicate.Send(Hex.Parse("00"));
        Assert.That(h.Run(duplicate).Closed, Is.True);
        Assert.That(LoopHarness.Quiet(owner), Is.True);
        Assert.That(h.Registry.FindRegistered("alpha"u8), Is.Not.EqualTo(-1));
    }

    [Test]
    public void Duplicate_that_resets_before_its_reply_does_not_evict_the_owner()
    {
        // OTP unregisters by name when the reply write fails, so a duplicate that resets evicts the real owner; we drop only a record the socket owns.
        using var h = new LoopHarness(backend);
        var owner = h.Register(AliveAlpha, AliveAlphaOk);
        var attacker = h.Send(h.Connect(), AliveAlpha);
        SocketPairs.Reset(attacker);
        for (int i = 0; i < 5; i++) h.Step(5);
        Assert.That(h.Registry.FindRegistered("alpha"u8), Is.Not.EqualTo(-1));
        Assert.That(LoopHarness.Quiet(owner), Is.True);
        Assert.That(h.Request(PortPleaseAlpha).Hex, Is.EqualTo(H(AlphaFound)));
    }

    [Test]
    public void Node_that_resets_right_after_its_alive_leaves_no_zombie()
    {
        // epmd_SUITE socket_reset_before_alive2_reply_is_written: whether the loop reads the
        // request before the RST or fails the reply write after it, nothing stays registered.
        using var h = new LoopHarness(backend);
        var node = h.Send(h.Connect(), AliveBeta);
        SocketPairs.Reset(node);
        for (int i = 0; i < 5; i++) h.Step(5);
        Assert.That(h.Registry.RegisteredCount, Is.EqualTo(0));
        Assert.That(h.Epmd.Count, Is.EqualTo(0));
        Assert.That(h.Request("00 01 6e").Hex, Is.EqualTo(NamesHeader));
    }

    // ---- the table ----

    [Test]
    public void Full_table_evicts_the_oldest_idle_connection_never_a_registration()
    {
        using var h = new LoopHarness(backend, capacity: 4);
        var node = h.Register(AliveAlpha, AliveAlphaOk);
        var idle = new Socket[3];
        for (int i = 0; i < 3; i++)
        {
            h.NowMs += 10;
            idle[i] = h.Connect();
            h.Step();
        }
        Assert.That(h.Epmd.Count, Is.EqualTo(4));

        h.NowMs += 10;
        var names = h.Request("00 01 6e");
        Assert.That(names.Hex, Is.EqualTo(NamesHeader + " " + Text("name alpha at port 40301\n")));
        Assert.That(LoopHarness.ClosedSilently(idle[0]), Is.True, "the oldest idle connection goes");
        Assert.That(LoopHarness.Quiet(idle[1]), Is.True);
        Assert.That(LoopHarness.Quiet(idle[2]), Is.True);
        Assert.That(LoopHarness.Quiet(node), Is.True);
        Assert.That(h.Epmd.Counters.DroppedForFullTable, Is.EqualTo(1));

        // Fill the freed slot, then again: now idle[1] is the oldest.
        h.NowMs += 10;
        var late = h.Connect();
        h.Step();
        Assert.That(h.Epmd.Count, Is.EqualTo(4));
        h.NowMs += 10;
        Assert.That(h.Request("00 06 7a 616c706861").Hex, Is.EqualTo(H(AlphaFound)));
        Assert.That(LoopHarness.ClosedSilently(idle[1]), Is.True);
        Assert.That(LoopHarness.Quiet(idle[2]), Is.True);
        Assert.That(LoopHarness.Quiet(late), Is.True);
        Assert.That(h.Epmd.Counters.DroppedForFullTable, Is.EqualTo(2));
        Assert.That(h.Registry.FindRegistered("alpha"u8), Is.Not.EqualTo(-1));
    }

    [Test]
    public void Full_table_evicts_a_refused_alive_connection_when_it_is_the_oldest()
    {
        using var h = new LoopHarness(backend, capacity: 3);
        h.Register(AliveAlpha, AliveAlphaOk);
        h.NowMs += 10;
        var refused = h.Register(AliveAlpha, Refused);
        h.NowMs += 10;
        var idle = h.Connect();
        h.Step();
        h.NowMs += 10;
        Assert.That(h.Request("00 01 6e").Data, Is.Not.Empty);
        Assert.That(LoopHarness.ClosedSilently(refused), Is.True);
        Assert.That(LoopHarness.Quiet(idle), Is.True);
    }

    [Test]
    public void Table_full_of_registrations_refuses_the_newcomer()
    {
        using var h = new LoopHarness(backend, capacity: 2);
        var a = h.Register(AliveAlpha, AliveAlphaOk);
        var b = h.Register(AliveBeta, "76 00 65 53 f1 01");
        var e = h.Request("00 01 6e");
        Assert.That(e.Closed, Is.True);
        Assert.That(e.Data, Is.Empty);
        Assert.That(h.Epmd.Counters.DroppedForFullTable, Is.EqualTo(1));
        Assert.That(LoopHarness.Quiet(a), Is.True);
        Assert.That(LoopHarness.Quiet(b), Is.True);
        Assert.That(h.Registry.RegisteredCount, Is.EqualTo(2));
    }

    // ---- the registration's socket is the registration ----

    [TestCase("fin")]
    [TestCase("half-close")]
    [TestCase("reset")]
    [TestCase("byte")]
    [TestCase("second request")]
    public void Registration_ends_with_its_socket(string how)
    {
        using var h = new LoopHarness(backend);
        var node = h.Register(AliveAlpha, AliveAlphaOk);
        switch (how)
        {
            case "fin": node.Close(); break;
            case "half-close": node.Shutdown(SocketShutdown.Send); break;
            case "reset": SocketPairs.Reset(node); break;
            case "byte": node.Send(Hex.Parse("00")); break;
            case "second request": node.Send(Hex.Parse(PortPleaseAlpha)); break;
        }
        for (int i = 0; i < 3 && h.Registry.RegisteredCount > 0; i++) h.Step(5);
        Assert.That(h.Registry.FindRegistered("alpha"u8), Is.EqualTo(-1));
        Assert.That(h.Registry.RememberedCount, Is.EqualTo(1));
        Assert.That(h.Epmd.Count, Is.EqualTo(0));
        if (how is "half-close" or "byte" or "second request")
            Assert.That(LoopHarness.ClosedSilently(node), Is.True, "epmd closes it, with no reply");
        Assert.That(h.Request(PortPleaseAlpha).Hex, Is.EqualTo("77 01"));
    }

    [Test]
    public void Name_registered_again_after_its_socket_closed_gets_the_next_creation()
    {
        using var h = new LoopHarness(backend);
        var node = h.Register(AliveAlpha, AliveAlphaOk);
        node.Close();
        h.Step(5);
        h.NowSeconds += 100;
        h.Register(AliveAlpha, "76 00 65 53 f1 02");
    }

    [Test]
    public void Node_restarting_before_its_old_socket_is_processed_gets_its_name()
    {
        using var h = new LoopHarness(backend);
        var old = h.Register(AliveAlpha, AliveAlphaOk);
        old.Close();
        // No step between: the close and the new ALIVE2 are handled in the same loop turn.
        h.Register(AliveAlpha, "76 00 65 53 f1 02");
        Assert.That(h.Registry.RegisteredCount, Is.EqualTo(1));
    }

    [Test]
    public void Duplicate_of_a_dead_owner_takes_the_name_and_of_a_live_one_is_refused()
    {
        using var h = new LoopHarness(backend);
        var live = h.Register(AliveAlpha, AliveAlphaOk);
        var dying = h.Register(AliveBeta, "76 00 65 53 f1 01");
        // The newcomer is queued on the listener before the old socket's FIN: the loop accepts and
        // reads it first, so the FIN is still unprocessed when the name is found taken.
        var taker = h.Send(h.Connect(), AliveBeta);
        dying.Close();
        Assert.That(h.Run(taker, expectBytes: 6).Hex, Is.EqualTo(H("76 00 65 53 f1 02")));
        Assert.That(h.Epmd.Counters.DeadOwnersDropped, Is.EqualTo(1), "the dead-owner path was taken");
        Assert.That(h.Registry[h.Registry.FindRegistered("beta"u8)].Owner, Is.Not.EqualTo(0UL));

        var refused = h.Register(AliveAlpha, Refused);
        Assert.That(h.Epmd.Counters.DeadOwnersDropped, Is.EqualTo(1));
        h.Step();
        Assert.That(LoopHarness.Quiet(live), Is.True);
        Assert.That(LoopHarness.Quiet(taker), Is.True);
        Assert.That(h.Registry.RegisteredCount, Is.EqualTo(2));
        Assert.That(h.Epmd.Count, Is.EqualTo(3), "live, taker and the refused duplicate");
    }

    [TestCase("registered")]
    [TestCase("refused")]
    public void Bytes_on_an_alive_connection_are_read_then_it_is_closed_with_a_fin(string which)
    {
        using var h = new LoopHarness(backend);
        var owner = h.Register(AliveAlpha, AliveAlphaOk);
        var target = which == "registered" ? owner : h.Register(AliveAlpha, Refused);
        target.Send(TestBytes.Repeat("61", 3000));
        for (int i = 0; i < 5; i++) h.Step(5);
        Assert.That(target.Poll(1_000_000, SelectMode.SelectRead), Is.True, "closed");
        int n = -1;
        Assert.That(() => n = target.Receive(new byte[16]), Throws.Nothing, "a reset instead of a FIN");
        Assert.That(n, Is.Zero, "EOF with no reply");
        Assert.That(h.Registry.FindRegistered("alpha"u8) == -1, Is.EqualTo(which == "registered"));
    }

    [Test]
    public void Relaxed_stop_unregisters_and_closes_the_owner_socket()
    {
        using var h = new LoopHarness(backend, new EpmdOptions { RelaxedCommandCheck = true });
        var node = h.Register(AliveAlpha, AliveAlphaOk);
        var e = h.Request("00 06 73 616c706861");
        Assert.That(e.Hex, Is.EqualTo(Text("STOPPED")));
        Assert.That(LoopHarness.ClosedSilently(node), Is.True, "the node sees EOF");
        Assert.That(h.Registry.FindRegistered("alpha"u8), Is.EqualTo(-1));
        Assert.That(h.Epmd.Count, Is.EqualTo(0));
        Assert.That(h.Request("00 06 73 616c706861").Hex, Is.EqualTo(Text("NOEXISTSTOPPED")));
    }

    [Test]
    public void Kill_with_a_live_node_is_refused_and_without_one_stops_the_loop()
    {
        using var h = new LoopHarness(backend);
        var node = h.Register(AliveAlpha, AliveAlphaOk);
        Assert.That(h.Request("00 01 6b").Hex, Is.EqualTo(Text("NO")));
        Assert.That(h.Loop.StopRequested, Is.False);
        node.Close();
        h.Step(5);
        Assert.That(h.Request("00 01 6b").Hex, Is.EqualTo(Text("OK")));
        Assert.That(h.Loop.StopRequested, Is.True);
    }

    [Test]
    public void Request_stop_from_another_thread_wakes_the_loop()
    {
        using var h = new LoopHarness(backend);
        var t = new Thread(() => h.Loop.RequestStop());
        t.Start();
        t.Join();
        h.Step(5000);
        Assert.That(h.Loop.StopRequested, Is.True);
    }

    [Test]
    public void Shutdown_closes_every_connection_so_nodes_see_eof()
    {
        using var h = new LoopHarness(backend);
        var a = h.Register(AliveAlpha, AliveAlphaOk);
        var idle = h.Connect();
        h.Step();
        h.Loop.Shutdown(0);
        Assert.That(LoopHarness.ClosedSilently(a), Is.True);
        Assert.That(LoopHarness.ClosedSilently(idle), Is.True);
        Assert.That(h.Registry.RegisteredCount, Is.EqualTo(0));
    }

    // ---- a reply larger than the socket takes at once ----

    [Test]
    public void Slow_names_readers_get_the_snapshot_of_their_request_while_the_registry_changes()
    {
        // 100 nodes with 1005-byte names (255 code points) make a ~100 KB NAMES reply. Small
        // socket buffers on both sides make the loop park it on EPOLLOUT. The registry changes
        // while it is in flight and a second NAMES arrives: the first reader must still get
        // the bytes of its own moment, the second the new list.
        using var h = new LoopHarness(backend, capacity: 128, serverSendBuffer: 4096);
        var lines = new List<byte[]>();
        var nodes = new List<Socket>();
        for (int i = 0; i < 100; i++)
        {
            var name = Hex.Cat(Hex.Ascii($"n{i:D3}-"), TestBytes.Repeat("f0 9f 98 88", 250));
            int port = 1000 + i;
            var payload = Hex.Cat(Hex.Parse("78"), Hex.U16(port), Hex.Parse("4d 00 0006 0005"), Hex.U16(name.Length), name, Hex.Parse("0000"));
            var client = h.Connect();
            client.Send(Hex.Frame(payload));
            Assert.That(Hex.Format(h.Run(client, expectBytes: 6).Data.AsSpan(0, 2)), Is.EqualTo("76 00"), $"node {i}");
            nodes.Add(client);
            lines.Insert(0, Hex.Cat(Hex.Ascii("name "), name, Hex.Ascii($" at port {port}\n")));
        }
        var before = Hex.Cat(Hex.Parse(NamesHeader), lines.SelectMany(l => l).ToArray());

        var first = h.Send(h.Connect(receiveBuffer: 2048), "00 01 6e");
        h.Step();
        Assert.That(h.Table.SlotsOf(0).Count(slot => h.Epmd[slot].State == FastEpmd.Endpoints.Epmd.ConnectionState.Writing),
            Is.EqualTo(1), "the reply fit the socket: this test no longer covers a parked write");

        nodes[50].Close();                 // n050 leaves (line 49 counted from the newest)
        h.Step();
        h.Register("00 0e 78 0001 4d 00 0006 0005 0000 0000 61", "76 00 65 53 f1 01");   // "" arrives
        var after = Hex.Cat(Hex.Parse(NamesHeader), Hex.Ascii("name  at port 1\n"),
            lines.Where((_, i) => i != 49).SelectMany(l => l).ToArray());
        var second = h.Send(h.Connect(receiveBuffer: 2048), "00 01 6e");

        var got = DrainSlowly(h, first, second);
        Assert.That(got[0].Length, Is.EqualTo(before.Length));
        Assert.That(got[0].SequenceEqual(before), Is.True, "the first reply changed while it was being sent");
        Assert.That(got[1].Length, Is.EqualTo(after.Length));
        Assert.That(got[1].SequenceEqual(after), Is.True, "the second reply is not the new list");
        Assert.That(h.Request("00 01 6e").Data.SequenceEqual(after), Is.True);
    }

    [Test]
    public void Readers_pinning_the_oldest_snapshots_are_closed_when_the_reply_budget_is_spent()
    {
        // 60 nodes with 1,005-byte names: NAMES is ~62 kB (16 pages). A 1 MiB budget holds 16.
        // 30 readers that never read, each after a registry change, each pin their own snapshot.
        using var h = new LoopHarness(backend, new EpmdOptions { ReplyMemoryMb = 1 }, capacity: 128, serverSendBuffer: 4096);
        var nodes = new List<Socket>();
        for (int i = 0; i < 60; i++) nodes.Add(RegisterLong(h, i));
        long budget = h.Service.Snapshots.BudgetBytes;
        Assert.That(budget, Is.EqualTo(1L << 20));

        var readers = new List<Socket>();
        long peak = 0;
        for (int i = 0; i < 30; i++)
        {
            nodes.Add(RegisterLong(h, 100 + i));   // a new registry version
            var reader = h.Send(h.Connect(receiveBuffer: 2048), "00 01 6e");
            for (int s = 0; s < 3; s++) h.Step(5);
            readers.Add(reader);
            peak = Math.Max(peak, h.Service.Snapshots.MappedBytes);
            Assert.That(h.Service.Snapshots.MappedBytes, Is.LessThanOrEqualTo(budget), $"after reader {i}");
        }
        TestContext.Out.WriteLine($"peak reply memory {peak} of {budget}; shed {h.Epmd.Counters.SnapshotReadersShed} readers");
        Assert.That(h.Epmd.Counters.SnapshotReadersShed, Is.GreaterThanOrEqualTo(10));
        Assert.That(LoopHarness.Quiet(readers[^1]) || readers[^1].Available > 0, Is.True, "the newest reader is kept");
        Assert.That(ClosedOrReset(readers[0]), Is.True, "the oldest reader was closed");
        Assert.That(h.Registry.RegisteredCount, Is.EqualTo(90), "no registration is ever touched");
        foreach (var node in nodes) Assert.That(LoopHarness.Quiet(node), Is.True);

        foreach (var r in readers) r.Dispose();
        for (int s = 0; s < 10; s++) h.Step(5);
        Assert.That(h.Service.Snapshots.Count, Is.LessThanOrEqualTo(1), "only the current snapshot is left");
        Assert.That(h.Service.Snapshots.MappedBytes, Is.LessThanOrEqualTo(128 * 1024));
    }

    private static Socket RegisterLong(LoopHarness h, int i)
    {
        var name = Hex.Cat(Hex.Ascii(i.ToString("D5")), TestBytes.Repeat("f0 9f 98 88", 250));   // 1,005 bytes, 255 code points
        var alive = Hex.Frame(Hex.Cat(Hex.Parse("78"), Hex.U16(1000 + i), Hex.Parse("4d 00 0006 0005"), Hex.U16(name.Length), name, Hex.Parse("0000")));
        var client = h.Send(h.Connect(), Hex.Format(alive));
        var e = h.Run(client, expectBytes: 6);
        Assert.That(e.Data.Length >= 2 && e.Data[0] == 0x76 && e.Data[1] == 0, Is.True, "registered " + i);
        return client;
    }

    private static bool ClosedOrReset(Socket s)
    {
        // Drain what arrived; a closed reader then reads EOF or a reset.
        var buffer = new byte[1 << 16];
        for (int i = 0; i < 100; i++)
        {
            if (!s.Poll(100_000, SelectMode.SelectRead)) return false;
            try
            {
                if (s.Receive(buffer) == 0) return true;
            }
            catch (SocketException)
            {
                return true;
            }
        }
        return false;
    }

    [Test]
    public void A_queue_of_connections_is_accepted_one_per_step_and_all_are_served()
    {
        using var h = new LoopHarness(backend);
        h.Register(AliveAlpha, AliveAlphaOk);
        var clients = Enumerable.Range(0, 5).Select(_ => h.Send(h.Connect(), PortPleaseAlpha)).ToList();
        // Let every handshake and request land in the accept queue before the loop looks.
        Thread.Sleep(20);

        h.Step();
        Assert.That(clients.Count(c => c.Poll(10_000, SelectMode.SelectRead)), Is.EqualTo(1),
            "one accept per readiness: the next wait reports the listener again");
        for (int step = 0; step < 20 && clients.Any(c => !c.Poll(0, SelectMode.SelectRead)); step++) h.Step(5);

        foreach (var c in clients)
        {
            var e = h.Run(c);
            Assert.That(e.Hex, Is.EqualTo(H(AlphaFound)));
            Assert.That(e.Closed, Is.True);
        }
        Assert.That(h.Epmd.Count, Is.EqualTo(1), "only the registration is left");
    }

    /// <summary>Reads a little from each reader per loop step until all of them see EOF.</summary>
    private static byte[][] DrainSlowly(LoopHarness h, params Socket[] readers)
    {
        var got = readers.Select(_ => new List<byte>()).ToArray();
        var open = readers.Select(_ => true).ToArray();
        var buffer = new byte[1024];
        for (int step = 0; step < 20_000 && open.Any(o => o); step++)
        {
            h.Step(1);
            for (int r = 0; r < readers.Length; r++)
            {
                if (!open[r] || !readers[r].Poll(0, SelectMode.SelectRead)) continue;
                int n = readers[r].Receive(buffer);
                if (n == 0) open[r] = false;
                else got[r].AddRange(buffer.AsSpan(0, n).ToArray());
            }
        }
        Assert.That(open, Is.All.False, $"replies not finished: {string.Join(", ", got.Select(g => g.Count))} bytes");
        return got.Select(g => g.ToArray()).ToArray();
    }
}
