// The per-address connection count behind -max_per_peer: held per slot, released per slot,
// exact under heavy collision and churn, and free of allocation.
using System.Net;
using FastEpmd.Service;

namespace FastEpmd.Tests.Unit.Service;

public class PeerCapsTests
{
    private static PeerIp Peer(string text) => PeerIp.FromBytes(IPAddress.Parse(text).GetAddressBytes());

    private static PeerIp V4(int i) => PeerIp.FromBytes(new byte[] { 10, (byte)(i >> 16), (byte)(i >> 8), (byte)i });

    [Test]
    public void Counts_up_to_the_limit_and_releases_by_slot()
    {
        using var caps = new PeerCaps(limit: 3, slots: 16);
        var a = Peer("10.0.0.1");
        var b = Peer("2001:db8::1");
        for (int slot = 0; slot < 3; slot++)
        {
            Assert.That(caps.IsFull(a), Is.False);
            caps.Hold(slot, a);
        }
        Assert.That(caps.IsFull(a), Is.True);
        Assert.That(caps.IsFull(b), Is.False);
        caps.Hold(3, b);
        Assert.That(caps.Addresses, Is.EqualTo(2));
        caps.Release(1);
        Assert.That(caps.CountOf(a), Is.EqualTo(2));
        Assert.That(caps.IsFull(a), Is.False);
        caps.Release(1);   // twice: nothing more
        Assert.That(caps.CountOf(a), Is.EqualTo(2));
        caps.Release(7);   // never held
        caps.Release(0);
        caps.Release(2);
        Assert.That(caps.CountOf(a), Is.Zero);
        Assert.That(caps.Addresses, Is.EqualTo(1));
        Assert.That(caps.CountOf(b), Is.EqualTo(1));
    }

    [Test]
    public void Mapped_and_plain_IPv4_are_one_address()
    {
        using var caps = new PeerCaps(limit: 2, slots: 4);
        caps.Hold(0, Peer("192.0.2.7"));
        caps.Hold(1, Peer("::ffff:192.0.2.7"));
        Assert.That(caps.IsFull(Peer("192.0.2.7")), Is.True);
        Assert.That(caps.Addresses, Is.EqualTo(1));
    }

    [Test]
    public void Zero_limit_counts_nothing()
    {
        using var caps = new PeerCaps(limit: 0, slots: 4);
        var a = Peer("10.0.0.1");
        for (int slot = 0; slot < 4; slot++) caps.Hold(slot, a);
        Assert.That(caps.IsFull(a), Is.False);
        Assert.That(caps.Addresses, Is.Zero);
    }

    [Test]
    public void A_full_table_of_distinct_addresses_churns_exactly()
    {
        // Every slot from a different address (the table's worst case: half full), then a
        // pseudo-random release and re-hold order, checked against a model after every step.
        const int Slots = 4096;
        using var caps = new PeerCaps(limit: 2, slots: Slots);
        var model = new Dictionary<PeerIp, int>();
        var held = new PeerIp?[Slots];
        var random = new Random(15);
        for (int step = 0; step < 60_000; step++)
        {
            int slot = random.Next(Slots);
            if (held[slot] is { } old)
            {
                caps.Release(slot);
                if (--model[old] == 0) model.Remove(old);
                held[slot] = null;
            }
            else
            {
                var peer = V4(random.Next(Slots * 3 / 2));
                if (caps.IsFull(peer))
                {
                    Assert.That(model.GetValueOrDefault(peer), Is.EqualTo(2));
                    continue;
                }
                caps.Hold(slot, peer);
                model[peer] = model.GetValueOrDefault(peer) + 1;
                held[slot] = peer;
            }
            if (step % 997 == 0)
            {
                Assert.That(caps.Addresses, Is.EqualTo(model.Count), $"step {step}");
                foreach (var (peer, count) in model) Assert.That(caps.CountOf(peer), Is.EqualTo(count), $"step {step}, {peer}");
            }
        }
        for (int slot = 0; slot < Slots; slot++) caps.Release(slot);
        Assert.That(caps.Addresses, Is.Zero);
        for (int i = 0; i < Slots * 3 / 2; i++) Assert.That(caps.CountOf(V4(i)), Is.Zero);
    }

    [Test]
    public void Hold_and_release_allocate_nothing()
    {
        using var caps = new PeerCaps(limit: 256, slots: 1024);
        var peers = Enumerable.Range(0, 1024).Select(V4).ToArray();
        void Churn()
        {
            for (int slot = 0; slot < 1024; slot++) caps.Hold(slot, peers[slot % 300]);
            for (int slot = 0; slot < 1024; slot++)
            {
                _ = caps.IsFull(peers[slot]);
                caps.Release(slot);
            }
        }
        Churn();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) Churn();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
        Assert.That(caps.Addresses, Is.Zero);
    }

    [Test]
    public void IPv6_peers_count_by_their_64_bit_prefix_by_default_IPv4_and_mapped_by_address()
    {
        using var caps = new PeerCaps(limit: 3, slots: 64);
        for (int slot = 0; slot < 3; slot++) caps.Hold(slot, Peer($"2001:db8:1:2::{slot + 1:x}"));
        Assert.That(caps.IsFull(Peer("2001:db8:1:2:ffff:ffff:ffff:ffff")), Is.True, "any address of the same /64 is the same peer");
        Assert.That(caps.IsFull(Peer("2001:db8:1:3::1")), Is.False, "the next /64 is another peer");
        Assert.That(caps.Addresses, Is.EqualTo(1));

        caps.Hold(10, Peer("192.0.2.7"));
        caps.Hold(11, Peer("::ffff:192.0.2.7"));
        Assert.That(caps.CountOf(Peer("192.0.2.7")), Is.EqualTo(2), "IPv4 and its mapped form are one peer");
        Assert.That(caps.CountOf(Peer("192.0.2.8")), Is.Zero, "IPv4 counts by address, not by prefix");

        caps.Release(1);
        Assert.That(caps.CountOf(Peer("2001:db8:1:2::99")), Is.EqualTo(2));
    }

    [TestCase(128, "2001:db8::1", "2001:db8::2", false)]
    [TestCase(112, "2001:db8::1:1", "2001:db8::1:ffff", true)]
    [TestCase(112, "2001:db8::1:1", "2001:db8::2:1", false)]
    [TestCase(48, "2001:db8:1:2::1", "2001:db8:1:ffff::1", true)]
    [TestCase(48, "2001:db8:1:2::1", "2001:db8:2:2::1", false)]
    [TestCase(1, "2001:db8::1", "7fff::1", true)]
    [TestCase(1, "2001:db8::1", "8000::1", false)]
    public void The_IPv6_prefix_length_is_the_flag(int prefix6, string held, string other, bool samePeer)
    {
        using var caps = new PeerCaps(limit: 1, slots: 16, prefix6);
        caps.Hold(0, Peer(held));
        Assert.That(caps.IsFull(Peer(other)), Is.EqualTo(samePeer));
        Assert.That(caps.IsFull(Peer(held)), Is.True);
    }
}
