// -allow entries as README "Command line" states them: what parses, what is malformed, and which
// peers each entry lets in (IPv4-mapped peers match IPv4 entries, the families stay apart).
using System.Net;
using FastEpmd.Service;

namespace FastEpmd.Tests.Unit.Service;

public class PeerAllowListTests
{
    private static PeerIp Peer(string text) => PeerIp.FromBytes(IPAddress.Parse(text).GetAddressBytes());

    private static PeerAllowList List(string text)
    {
        Assert.That(PeerAllowList.TryParse(text, out var list), Is.True, $"\"{text}\" should parse");
        return list!;
    }

    [TestCase("192.0.2.7")]
    [TestCase("10.0.0.0/8")]
    [TestCase("0.0.0.0/0")]
    [TestCase("192.0.2.7/32")]
    [TestCase("fd00::/8")]
    [TestCase("2001:db8::1")]
    [TestCase("::/0")]
    [TestCase("2001:db8::1/128")]
    [TestCase("::ffff:10.0.0.0/104")]
    [TestCase("10.0.0.0/8,fd00::/8 192.0.2.7")]
    [TestCase(",10.0.0.1,,")]
    public void Accepted(string text) => List(text);

    [TestCase("")]
    [TestCase(" , ")]
    [TestCase("10.0.0")]
    [TestCase("10.0.0.256")]
    [TestCase("010.0.0.1")]
    [TestCase("10.0.0.1/")]
    [TestCase("10.0.0.0/33")]
    [TestCase("10.0.0.0/08")]
    [TestCase("10.0.0.0/+8")]
    [TestCase("10.0.0.0/-1")]
    [TestCase("10.0.0.0/8/8")]
    [TestCase("10.0.0.1/8")]
    [TestCase("fd00::/129")]
    [TestCase("fd00::1/8")]
    [TestCase("fe80::1%eth0")]
    [TestCase("::ffff:10.0.0.0/80")]
    [TestCase("localhost")]
    [TestCase("10.0.0.0 /8")]
    public void Malformed(string text) => Assert.That(PeerAllowList.TryParse(text, out var list), Is.False, $"\"{text}\" is malformed");

    [Test]
    public void At_most_256_entries()
    {
        var entries = Enumerable.Range(0, 256).Select(i => $"10.0.{i}.0/24").ToList();
        Assert.That(List(string.Join(',', entries)).Count, Is.EqualTo(256));
        entries.Add("10.1.0.0/16");
        Assert.That(PeerAllowList.TryParse(string.Join(',', entries), out _), Is.False);
    }

    [TestCase("10.0.0.0/8", "10.255.1.2", true)]
    [TestCase("10.0.0.0/8", "11.0.0.1", false)]
    [TestCase("10.0.0.0/8", "::ffff:10.1.2.3", true)]
    [TestCase("192.0.2.7", "192.0.2.7", true)]
    [TestCase("192.0.2.7", "192.0.2.8", false)]
    [TestCase("192.0.2.7", "::ffff:192.0.2.7", true)]
    [TestCase("::ffff:192.0.2.7", "192.0.2.7", true)]
    [TestCase("192.0.2.0/25", "192.0.2.127", true)]
    [TestCase("192.0.2.0/25", "192.0.2.128", false)]
    [TestCase("0.0.0.0/0", "203.0.113.9", true)]
    [TestCase("0.0.0.0/0", "2001:db8::1", false)]
    [TestCase("::/0", "2001:db8::1", true)]
    [TestCase("::/0", "10.0.0.1", false)]
    [TestCase("::/0", "::ffff:10.0.0.1", false)]
    [TestCase("fd00::/8", "fdff:1::2", true)]
    [TestCase("fd00::/8", "fe00::1", false)]
    [TestCase("2001:db8::/65", "2001:db8::7fff:ffff:ffff:ffff", true)]
    [TestCase("2001:db8::/65", "2001:db8::8000:0:0:0", false)]
    [TestCase("2001:db8::1", "2001:db8::1", true)]
    [TestCase("2001:db8::1", "2001:db8::2", false)]
    [TestCase("10.0.0.1,2001:db8::/32", "2001:db8:ffff::1", true)]
    [TestCase("10.0.0.1,2001:db8::/32", "10.0.0.1", true)]
    [TestCase("10.0.0.1,2001:db8::/32", "10.0.0.2", false)]
    public void Allows(string list, string peer, bool allowed) =>
        Assert.That(List(list).Allows(Peer(peer)), Is.EqualTo(allowed), $"{peer} against {list}");

    [Test]
    public void Check_allocates_nothing()
    {
        var list = List(string.Join(',', Enumerable.Range(0, 256).Select(i => $"10.0.{i}.0/24")));
        var miss = Peer("192.0.2.1");
        var hit = Peer("10.0.255.9");
        Assert.That(list.Allows(miss) || !list.Allows(hit), Is.False);   // warm
        long before = GC.GetAllocatedBytesForCurrentThread();
        int hits = 0;
        for (int i = 0; i < 10_000; i++)
        {
            if (list.Allows(miss)) hits++;
            if (list.Allows(hit)) hits++;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(hits, Is.EqualTo(10_000));
        Assert.That(allocated, Is.Zero);
    }
}
