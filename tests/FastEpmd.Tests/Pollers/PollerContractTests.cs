// What the loop relies on from any poller backend, checked on both (epoll, and kqueue over
// libkqueue on Linux) with real sockets: readiness comes back with its token, an interest change
// (read -> write -> none -> read) is accepted and obeyed, Remove stops events, a peer's close is
// reported, and a Wake from another thread is one event that the poller has already consumed.
using FastEpmd.Poller;
using static Tmds.Linux.LibC;

namespace FastEpmd.Tests.Pollers;

[TestFixture(PollerBackend.Epoll)]
[TestFixture(PollerBackend.Kqueue)]
public unsafe class PollerContractTests(PollerBackend backend)
{
    private readonly PollEvent[] _events = new PollEvent[16];

    private static void WriteByte(int fd)
    {
        byte b = 1;
        Assert.That((long)write(fd, &b, 1), Is.EqualTo(1L));
    }

    private (int N, PollEvent First) Wait(IPoller poller, int timeoutMs)
    {
        int n = poller.Wait(_events, timeoutMs);
        return (n, n > 0 ? _events[0] : default);
    }

    [Test]
    public void Readable_socket_is_reported_with_its_token()
    {
        using var poller = PollerBackends.Create(backend);
        var (a, b) = SocketPairs.Unix();
        try
        {
            poller.Add(a, 0xfeed_0000_0001UL, PollInterest.Read);
            Assert.That(Wait(poller, 0).N, Is.EqualTo(0), "nothing to read yet");
            WriteByte(b);
            var (n, e) = Wait(poller, 1000);
            Assert.That(n, Is.EqualTo(1));
            Assert.That(e.Token, Is.EqualTo(0xfeed_0000_0001UL));
            Assert.That(e.Flags & PollFlags.Read, Is.EqualTo(PollFlags.Read));
        }
        finally
        {
            close(a);
            close(b);
        }
    }

    [Test]
    public void Interest_moves_from_read_to_write_to_none_and_back()
    {
        using var poller = PollerBackends.Create(backend);
        var (a, b) = SocketPairs.Unix();
        try
        {
            poller.Add(a, 7, PollInterest.Read);
            poller.Modify(a, 8, PollInterest.Write);
            var (n, e) = Wait(poller, 1000);
            Assert.That(n, Is.EqualTo(1), "an empty send buffer is writable");
            Assert.That((e.Token, e.Flags & (PollFlags.Read | PollFlags.Write)), Is.EqualTo((8UL, PollFlags.Write)));

            WriteByte(b);   // readable now, but nobody asks
            poller.Modify(a, 9, PollInterest.None);
            Assert.That(Wait(poller, 50).N, Is.EqualTo(0), "PollInterest.None reports nothing");

            poller.Modify(a, 10, PollInterest.Read);
            (n, e) = Wait(poller, 1000);
            Assert.That(n, Is.EqualTo(1));
            Assert.That((e.Token, e.Flags & (PollFlags.Read | PollFlags.Write)), Is.EqualTo((10UL, PollFlags.Read)));
        }
        finally
        {
            close(a);
            close(b);
        }
    }

    [Test]
    public void Removed_descriptor_reports_nothing_and_removing_twice_or_a_closed_one_is_success()
    {
        using var poller = PollerBackends.Create(backend);
        var (a, b) = SocketPairs.Unix();
        try
        {
            poller.Add(a, 1, PollInterest.Read);
            WriteByte(b);
            Assert.That(poller.Remove(a), Is.Zero);
            Assert.That(poller.Remove(a), Is.Zero, "not watched: nothing left to remove");
            Assert.That(Wait(poller, 50).N, Is.EqualTo(0));
        }
        finally
        {
            close(a);
            close(b);
        }
        Assert.That(poller.Remove(a), Is.Zero, "not open: nothing left to remove");
    }

    [Test]
    public void Peer_close_is_reported_as_readable()
    {
        using var poller = PollerBackends.Create(backend);
        var (a, b) = SocketPairs.Unix();
        try
        {
            poller.Add(a, 3, PollInterest.Read);
            close(b);
            b = -1;
            var (n, e) = Wait(poller, 1000);
            Assert.That(n, Is.EqualTo(1));
            Assert.That(e.Token, Is.EqualTo(3UL));
            Assert.That(e.Flags & (PollFlags.Read | PollFlags.Hangup), Is.Not.EqualTo(PollFlags.None), "EOF is readiness");
        }
        finally
        {
            close(a);
            if (b >= 0) close(b);
        }
    }

    [Test]
    public void Wake_from_another_thread_is_one_event_already_consumed()
    {
        using var poller = PollerBackends.Create(backend);
        const ulong WakerToken = 0xffff_0000_0000_0001UL;
        poller.AddWaker(WakerToken);
        poller.Wake();
        poller.Wake();
        var (n, e) = Wait(poller, 0);
        Assert.That((n, e.Token), Is.EqualTo((1, WakerToken)), "wake-ups coalesce into one event");
        // The poller drained it: the next wait is quiet, so a woken loop does not spin.
        Assert.That(Wait(poller, 50).N, Is.EqualTo(0), "the wake-up was consumed");

        int woken = 0;
        var waiter = new Thread(() => woken = poller.Wait(_events, 5000));
        waiter.Start();
        Thread.Sleep(50);
        poller.Wake();
        Assert.That(waiter.Join(TimeSpan.FromSeconds(5)), Is.True, "Wake from another thread ended the wait");
        Assert.That((woken, _events[0].Token), Is.EqualTo((1, WakerToken)));
        Assert.That(Wait(poller, 50).N, Is.EqualTo(0), "the wake-up was consumed");
    }
}
