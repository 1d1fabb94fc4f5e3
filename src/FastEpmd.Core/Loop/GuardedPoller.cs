// The loop's poller calls, each guarded: a refusal (ENOMEM, ENOSPC) is counted and logged (the
// first at level 0, the rest at level 1) and reported to the caller, which closes the connection
// or retries the listener by a timer; nothing throws into the loop. A descriptor that the poller
// will not let go of is not closed before it does (PendingCloses).
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Poller;

namespace FastEpmd.Loop;

internal sealed class GuardedPoller
{
    private readonly IPoller _poller;
    private readonly Log _log;
    private readonly PendingCloses _pending = new();
    private bool _refusalLogged;

    public GuardedPoller(IPoller poller, Log log)
    {
        _poller = poller;
        _log = log;
    }

    public IPoller Inner => _poller;

    /// <summary>Calls the poller refused (each closed a connection, delayed a listener or a close).</summary>
    public long Refusals { get; private set; }

    /// <summary>Descriptors whose close waits for the poller.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Adds fd (watched: changes it) for interest; false, logged, when refused. what: "fd ", "listener fd ".</summary>
    public bool Watch(int fd, ulong token, bool watched, PollInterest interest, string what)
    {
        try
        {
            if (watched) _poller.Modify(fd, token, interest);
            else _poller.Add(fd, token, interest);
            return true;
        }
        catch (ErrnoException e)
        {
            Refused("cannot watch " + what + fd + ": " + e.Message + "; closed or retried, serving on");
            return false;
        }
    }

    /// <summary>fd out of the poller; false, logged, when refused.</summary>
    public bool Leave(int fd, string what)
    {
        int errno = _poller.Remove(fd);
        if (errno != 0) Refused("cannot stop watching " + what + fd + ": " + Errno.Describe(errno) + "; its close waits until the poller lets go");
        return errno == 0;
    }

    /// <summary>Closes fd, or, when the poller did not let go of it (released false), once it does.</summary>
    public void Close(int fd, bool released)
    {
        if (released || !_pending.TryAdd(fd)) SocketIo.Close(fd);
    }

    /// <summary>After each wait: the pending closes are tried again.</summary>
    public void RetryPending()
    {
        if (_pending.Count > 0) _pending.Retry(_poller, _log);
    }

    public void CloseAll() => _pending.CloseAll(_poller);

    private void Refused(string line)
    {
        Refusals++;
        int level = _refusalLogged ? 1 : 0;
        _refusalLogged = true;
        if (_log.On(level)) _log.Write(level, line);
    }
}
