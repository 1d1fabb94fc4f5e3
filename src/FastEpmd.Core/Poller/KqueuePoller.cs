// BSD/macOS backend: kqueue through the shim (struct kevent differs between them). On Linux the
// linked shim returns -ENOSYS and the daemon uses EpollPoller; the loop suite runs this backend on
// Linux through a build of the shim's kqueue file against libkqueue (KqueueCalls).
using FastEpmd.Interop;

namespace FastEpmd.Poller;

internal sealed unsafe class KqueuePoller : IPoller
{
    private const uint ReadInterest = 1;
    private const uint WriteInterest = 2;

    private readonly KqueueCalls _calls;
    private readonly int _kq;
    private readonly NativePollEvent* _events;
    private readonly int _capacity;
    private readonly Waker _waker;

    public KqueuePoller(int capacity = 256, KqueueCalls calls = default)
    {
        _calls = calls;
        int kq = calls.Create();
        if (kq < 0) throw new ErrnoException("kqueue", -kq);
        _kq = kq;
        _capacity = capacity;
        _waker = Waker.Pipe();
        _events = (NativePollEvent*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)(capacity * sizeof(NativePollEvent)));
    }

    public static bool IsSupported => Shim.KqueueCreate() is var kq && kq != -Errno.ENOSYS && Close(kq);

    private static bool Close(int kq)
    {
        if (kq >= 0) Tmds.Linux.LibC.close(kq);
        return kq >= 0;
    }

    public void Add(int fd, ulong token, PollInterest interest) => Modify(fd, token, interest);

    public void Modify(int fd, ulong token, PollInterest interest)
    {
        uint bits = interest switch { PollInterest.Read => ReadInterest, PollInterest.Write => WriteInterest, _ => 0u };
        int rc = _calls.Set(_kq, fd, token, bits);
        if (rc < 0) throw new ErrnoException("kevent", -rc);
    }

    // ENOENT (not watched) is success in the shim; EBADF (already closed) leaves nothing to remove.
    public int Remove(int fd)
    {
        int rc = _calls.Remove(_kq, fd);
        return rc >= 0 || rc == -Errno.EBADF ? 0 : -rc;
    }

    public void AddWaker(ulong token) => _waker.WatchWith(this, token);

    public void Wake() => _waker.Signal();

    public int Wait(Span<PollEvent> events, int timeoutMs)
    {
        int n = _calls.Wait(_kq, _events, Math.Min(events.Length, _capacity), timeoutMs);
        if (n < 0) throw new ErrnoException("kevent", -n);
        for (int i = 0; i < n; i++)
            events[i] = new PollEvent { Token = _events[i].Token, Flags = (PollFlags)_events[i].Events };
        _waker.DrainIfReported(events, n);
        return n;
    }

    public void Dispose()
    {
        _waker.Dispose();
        Tmds.Linux.LibC.close(_kq);
        System.Runtime.InteropServices.NativeMemory.Free(_events);
    }
}
