// What the service has decided, counted in plain fields (read on the loop thread, e.g. by the
// metrics responder), so counting allocates nothing.
namespace FastEpmd.Service;

/// <summary>The request kinds counted, one per epmd request tag and one for anything else.</summary>
internal enum RequestType : byte
{
    Alive,
    PortPlease,
    Names,
    Dump,
    Kill,
    Stop,
    Unknown,
}

/// <summary>How a request ended: a normal reply, a refusal reply, or a close without a reply.</summary>
internal enum RequestOutcome : byte
{
    Ok,
    Refused,
    Closed,
}

internal sealed class ServiceCounters
{
    public const int Types = (int)RequestType.Unknown + 1;
    public const int Outcomes = (int)RequestOutcome.Closed + 1;

    private readonly long[] _requests = new long[Types * Outcomes];

    /// <summary>ALIVE2 requests that registered a node.</summary>
    public long Registrations;

    /// <summary>ALIVE2 refused because a live node holds the name.</summary>
    public long DuplicateRefusals;

    /// <summary>ALIVE2 refused because the registry's memory for it was refused (NodeRegistry NoMemory).</summary>
    public long MemoryRefusals;

    public void Count(RequestType type, RequestOutcome outcome) => _requests[(int)type * Outcomes + (int)outcome]++;

    public long Requests(RequestType type, RequestOutcome outcome) => _requests[(int)type * Outcomes + (int)outcome];
}
