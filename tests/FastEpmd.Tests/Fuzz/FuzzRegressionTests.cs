// Failures the fuzzers found, kept as plain tests.
using System.Buffers.Binary;
using System.Text;
using FastEpmd.Diagnostics;
using FastEpmd.Registry;
using FastEpmd.Service;

namespace FastEpmd.Tests.Fuzz;

[TestFixture]
public class FuzzRegressionTests
{
    // Found by DecoderFuzzTests (seed 20260101, frame 5563: "00 01 64"; fixed on main in 2ab4f61,
    // found there by a SIGTERM test at the same time): a NAMES or DUMP reply
    // longer than the snapshot's first 4,096-byte buffer was rebuilt into a fresh, zeroed buffer
    // when it grew, so the header and the lines before the growth went out as NUL bytes.
    [TestCase((byte)'n', 300)]
    [TestCase((byte)'d', 300)]
    public void SharedReplyThatOutgrowsItsBufferKeepsItsFirstLines(byte tag, int nodes)
    {
        var registry = new NodeRegistry();
        var service = new EpmdService(new EpmdOptions { Port = 4369 }, registry, Log.Silent, static () => 1_800_000_000);
        var reply = new byte[4096];
        for (int i = 0; i < nodes; i++)
        {
            var alive = Requests.Alive($"node{i:D4}", port: 1000 + i);
            var d = service.Handle(alive.AsSpan(2), isLocal: true, token: (ulong)(i + 1) << 32, fd: i, reply);
            Assert.That(d.After, Is.EqualTo(AfterReply.KeepRegistration));
        }

        int shared = service.Handle(new[] { tag }, isLocal: true, token: 1UL << 40, fd: 9999, reply).Snapshot;
        Assert.That(shared, Is.Not.Zero);
        var bytes = service.Snapshots.Bytes(shared).ToArray();

        Assert.That(Hex.Format(bytes.AsSpan(0, 4)), Is.EqualTo("00 00 11 11"));
        string text = Encoding.ASCII.GetString(bytes, 4, bytes.Length - 4);
        string expectedFirst = tag == (byte)'n'
            ? $"name node{nodes - 1:D4} at port {1000 + nodes - 1}\n"
            : $"active name     <node{nodes - 1:D4}> at port {1000 + nodes - 1}, fd = {nodes - 1}\n\0";
        Assert.That(text, Does.StartWith(expectedFirst));
        Assert.That(text.Split('\n').Count(l => l.Contains("node", StringComparison.Ordinal)), Is.EqualTo(nodes));
        Assert.That(BinaryPrimitives.ReadInt32BigEndian(bytes), Is.EqualTo(4369));
    }
}
