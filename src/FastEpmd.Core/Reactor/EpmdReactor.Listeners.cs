// Listening sockets and their registration with the poller. Each listener has a kind; its token is
// (TokenKind.Listener, index in _listeners). To add a kind: a ListenerKind value, AddListener with
// it, and a case in OnListenerReady. Pausing keeps each listener's own token. A listener whose
// accept keeps failing is paused on its own, with backoff (ListenerBackoff).
using FastEpmd.Poller;

namespace FastEpmd.Reactor;

/// <summary>What a listening socket serves.</summary>
internal enum ListenerKind : byte
{
    /// <summary>The epmd protocol (port 4369 or -port).</summary>
    Epmd,

    /// <summary>The -metrics HTTP responder (EpmdReactor.Metrics); not an epmd listener.</summary>
    Metrics,
}

internal sealed partial class EpmdReactor
{
    private const int ListenerPauseMs = 100;

    private readonly List<(int Fd, ListenerKind Kind)> _listeners = new();
    private readonly List<ListenerBackoff> _backoffs = new();
    private long _listenersPausedUntil = -1;

    public void AddListener(int fd, ListenerKind kind = ListenerKind.Epmd)
    {
        _poller.Add(fd, PollToken.Make(TokenKind.Listener, _listeners.Count), PollInterest.Read);
        _listeners.Add((fd, kind));
        _backoffs.Add(new ListenerBackoff());
    }

    private void OnListenerReady(int index)
    {
        var (fd, kind) = _listeners[index];
        switch (kind)
        {
            // Both kinds share the accept loop and its error policy; AcceptOne admits by kind.
            case ListenerKind.Epmd when fd >= 0:
            case ListenerKind.Metrics when fd >= 0:
                AcceptFrom(index, fd);
                break;
        }
    }

    /// <summary>Stops reporting every listener for a moment (out of descriptors, no spare left).</summary>
    private void PauseListeners()
    {
        for (int i = 0; i < _listeners.Count; i++)
        {
            if (_listeners[i].Fd >= 0)
                _poller.Modify(_listeners[i].Fd, PollToken.Make(TokenKind.Listener, i), PollInterest.None);
        }
        _listenersPausedUntil = _now + ListenerPauseMs;
    }

    /// <summary>
    /// A persistent accept error: the level-triggered listener would report it again at once, so it
    /// is not watched until its backoff ends. One log line a second at most, with the count.
    /// </summary>
    private void PauseListener(int index, int errno)
    {
        var backoff = _backoffs[index];
        if (backoff.Fail(_now, out int failures) && _log.On(0))
        {
            _log.Write(0, "error in accept: " + Interop.Errno.Describe(errno) + "; listener fd " + _listeners[index].Fd
                + " paused for " + (backoff.ResumeAtMs - _now) + " ms (" + failures + (failures == 1 ? " failure" : " failures")
                + " since the last such line)");
        }
        _poller.Modify(_listeners[index].Fd, PollToken.Make(TokenKind.Listener, index), PollInterest.None);
    }

    /// <summary>Watches again each listener whose pause is over (all of them, or its own backoff).</summary>
    private void ResumeListeners()
    {
        if (_frozen) return;   // a handoff's freeze: Thaw watches them again
        bool allResume = _listenersPausedUntil >= 0 && _now >= _listenersPausedUntil;
        if (allResume)
        {
            _listenersPausedUntil = -1;
            if (_spareFd < 0) _spareFd = Listener.OpenSpare();
        }
        for (int i = 0; i < _listeners.Count; i++)
        {
            bool resumes = _backoffs[i].TryResume(_now) || allResume;
            if (resumes && !_backoffs[i].Paused && _listenersPausedUntil < 0 && _listeners[i].Fd >= 0)
                _poller.Modify(_listeners[i].Fd, PollToken.Make(TokenKind.Listener, i), PollInterest.Read);
        }
    }

    /// <summary>When the next paused listener is watched again, or long.MaxValue.</summary>
    private long NextListenerResumeMs()
    {
        long next = _listenersPausedUntil >= 0 ? _listenersPausedUntil : long.MaxValue;
        foreach (var backoff in _backoffs)
        {
            if (backoff.Paused) next = Math.Min(next, backoff.ResumeAtMs);
        }
        return next;
    }

    /// <summary>
    /// Closes the listeners of one kind; their entries stay (fd -1) so the others keep their tokens.
    /// At shutdown the epmd ones close first, and the metrics listener still answers /healthz 503.
    /// </summary>
    private void CloseListeners(ListenerKind kind)
    {
        for (int i = 0; i < _listeners.Count; i++)
        {
            if (_listeners[i].Kind != kind || _listeners[i].Fd < 0) continue;
            // Another process may hold the same listener (systemd, a handoff): epoll would keep it.
            _poller.Remove(_listeners[i].Fd);
            SocketIo.Close(_listeners[i].Fd);
            _listeners[i] = (-1, kind);
        }
    }
}
