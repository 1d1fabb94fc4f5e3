// -accept_batch K: one listener readiness accepts up to K queued connections and stops at EAGAIN.
// The listener here has no TCP_DEFER_ACCEPT, and each client's request is in before the step, so
// every accepted connection is answered within the same step: the replies count the accepts.
using System.Net.Sockets;
using FastEpmd.Service;
using FastEpmd.Tests.Pollers;

namespace FastEpmd.Tests.Loop;

[TestFixture(PollerBackend.Epoll)]
[TestFixture(PollerBackend.Kqueue)]
public class AcceptBatchTests(PollerBackend backend)
{
    private const int Queued = 10;
    private const string Names = "00 01 6e";

    [TestCase(1, 1)]
    [TestCase(4, 4)]
    [TestCase(16, Queued)]
    public void One_readiness_accepts_at_most_K(int batch, int servedInOneStep)
    {
        using var h = new LoopHarness(backend, new EpmdOptions { AcceptBatch = batch });
        var clients = Enumerable.Range(0, Queued).Select(_ => h.Send(h.Connect(), Names)).ToList();

        h.Step();

        // The accept queue is FIFO: the first K connections were served, the others wait.
        for (int i = 0; i < Queued; i++)
        {
            if (i < servedInOneStep) Assert.That(Answered(clients[i]), Is.True, $"client {i} served in the first step");
            else Assert.That(LoopHarness.Quiet(clients[i]), Is.True, $"client {i} still queued after the first step");
        }
    }

    [TestCase(1)]
    [TestCase(64)]
    public void Every_queued_connection_is_served_in_later_steps(int batch)
    {
        using var h = new LoopHarness(backend, new EpmdOptions { AcceptBatch = batch });
        var clients = Enumerable.Range(0, Queued).Select(_ => h.Send(h.Connect(), Names)).ToList();
        for (int step = 0; step < Queued + 2; step++) h.Step();
        for (int i = 0; i < Queued; i++) Assert.That(Answered(clients[i]), Is.True, $"client {i}");
        // A batch larger than the queue ended at EAGAIN: the loop is idle again, not spinning.
        Assert.That(h.Step(50), Is.Zero, "no event left once the queue is empty");
    }

    /// <summary>The NAMES reply (port header first) and then the server's close.</summary>
    private static bool Answered(Socket client)
    {
        var buffer = new byte[64];
        int got = 0;
        while (client.Poll(1_000_000, SelectMode.SelectRead))
        {
            int n = client.Receive(buffer, got, buffer.Length - got, SocketFlags.None);
            if (n == 0) return got >= 4;
            got += n;
        }
        return false;
    }
}
