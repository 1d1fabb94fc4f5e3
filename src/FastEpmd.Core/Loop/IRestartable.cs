// The restart seam: what outlives this process is descriptors. Each endpoint exports its own (its
// listeners, its connections that must survive) and adopts its own in the next process; the
// Restart folder moves them (a handoff, systemd's store) and never looks inside a protocol.
namespace FastEpmd.Loop;

/// <summary>A listener, or a connection named by its endpoint's key (a registration's store key).</summary>
internal enum HeldRole : byte
{
    Listener,
    Connection,
}

/// <summary>One descriptor that outlives the process; Endpoint names the owner ("epmd", "metrics", "control").</summary>
internal readonly record struct HeldDescriptor(string Endpoint, HeldRole Role, ulong Key, int Fd);

internal interface IRestartable
{
    /// <summary>Its name in HeldDescriptor.Endpoint.</summary>
    string Name { get; }

    /// <summary>Appends every descriptor a successor takes over; they stay open and owned here.</summary>
    void Export(List<HeldDescriptor> into);

    /// <summary>
    /// Takes one of its own descriptors back (a listener served, a connection resumed). False when it
    /// was refused: the endpoint has then closed it and said why, and undone what it stood for.
    /// </summary>
    bool Adopt(in HeldDescriptor descriptor);

    /// <summary>
    /// The successor has everything exported: each exported descriptor leaves the poller and is
    /// closed here with no effect on the protocol (no deregistration: the successor serves it).
    /// </summary>
    void LetGo();
}

/// <summary>
/// An endpoint that changes what a handoff hands over (the epmd endpoint: the registry) and can be
/// held still while the state is taken; the loop's listeners are frozen apart (EventLoop.FreezeListeners).
/// </summary>
internal interface IFreezable
{
    /// <summary>Takes no new change: events that could make one wait (out of the poller) until Thaw.</summary>
    void Freeze();

    /// <summary>No connection that could change the state is left.</summary>
    bool Drained { get; }

    /// <summary>Closes those still open when the drain's time is up.</summary>
    void CloseUndrained();

    /// <summary>Serves again exactly as before Freeze.</summary>
    void Thaw();
}
