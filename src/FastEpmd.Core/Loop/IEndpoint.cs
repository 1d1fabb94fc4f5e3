// What the loop calls: an endpoint owns one protocol, its listeners and its connections' state
// (indexed by the table's slot). The loop never asks what protocol a connection speaks; it hands
// each readiness, accept and timer to the endpoint that owns the descriptor (redis's file-event
// handlers, libuv's watchers). Handlers close through EventLoop.Close, never close(2) themselves.
using FastEpmd.Interop;
using FastEpmd.Poller;

namespace FastEpmd.Loop;

internal interface IEndpoint
{
    /// <summary>
    /// A listener of this endpoint accepted fd (non-blocking, close-on-exec, not yet in a slot): take
    /// a slot with EventLoop.Open and watch it, or close fd.
    /// </summary>
    void OnAccepted(int listener, int fd, in PeerAddress peer);

    /// <summary>A connection of this endpoint is ready (its token resolved, so the slot is live).</summary>
    void OnReady(int slot, PollFlags flags);

    /// <summary>The slot's deadline on this endpoint's list passed: close it, or re-arm or disarm the timer.</summary>
    void OnTimer(int slot, TimerList list);

    /// <summary>The loop is stopping: stop accepting, and drop what need not finish.</summary>
    void OnStopping();

    /// <summary>Still has work the stop drain should let finish (replies being written).</summary>
    bool Busy { get; }

    /// <summary>The drain is over: close everything left.</summary>
    void OnStopped();
}
