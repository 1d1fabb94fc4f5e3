// A test double over a real poller (either backend) that refuses chosen epoll_ctl calls (ADD, MOD,
// DEL) the way the kernel does (ENOMEM, ENOSPC), to prove each call site in the loop survives a
// refusal. It lives in the tests only: the shipped binary has no such knob.
using FastEpmd.Interop;
using FastEpmd.Poller;
using FastEpmd.Tests.Pollers;

namespace FastEpmd.Tests.Loop;

internal sealed class FaultyPoller(PollerBackend backend) : IPoller
{
    private readonly IPoller _inner = PollerBackends.Create(backend);

    /// <summary>Refuses Add while it returns true for (fd, token).</summary>
    public Func<int, ulong, bool>? FailAdd { get; set; }

    /// <summary>Refuses Modify while it returns true for (fd, token, interest).</summary>
    public Func<int, ulong, PollInterest, bool>? FailModify { get; set; }

    /// <summary>Refuses Remove while it returns true for fd.</summary>
    public Func<int, bool>? FailRemove { get; set; }

    public int Errno { get; set; } = FastEpmd.Interop.Errno.ENOMEM;
    public int Refused { get; private set; }

    /// <summary>Descriptors removed, in order (to check every close leaves the poller first).</summary>
    public List<int> Removed { get; } = new();

    public void Add(int fd, ulong token, PollInterest interest)
    {
        if (FailAdd?.Invoke(fd, token) == true) Refuse("epoll_ctl(ADD)");
        _inner.Add(fd, token, interest);
    }

    public void Modify(int fd, ulong token, PollInterest interest)
    {
        if (FailModify?.Invoke(fd, token, interest) == true) Refuse("epoll_ctl(MOD)");
        _inner.Modify(fd, token, interest);
    }

    public int Remove(int fd)
    {
        Removed.Add(fd);
        if (FailRemove?.Invoke(fd) == true)
        {
            Refused++;
            return Errno;
        }
        return _inner.Remove(fd);
    }

    public int Wait(Span<PollEvent> events, int timeoutMs) => _inner.Wait(events, timeoutMs);

    public void AddWaker(ulong token) => _inner.AddWaker(token);

    public void Wake() => _inner.Wake();

    public void Dispose() => _inner.Dispose();

    private void Refuse(string operation)
    {
        Refused++;
        throw new ErrnoException(operation, Errno);
    }
}
