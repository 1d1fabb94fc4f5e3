// What the epmd endpoint keeps per connection, beside the loop's slot (same index): where the
// request and the reply stand, and the registration the connection holds. Unmanaged, in native
// memory untouched until a slot is used.
using FastEpmd.Service;

namespace FastEpmd.Endpoints.Epmd;

internal enum ConnectionState : byte
{
    Free,

    /// <summary>Waiting for a whole request; under the request deadline.</summary>
    Reading,

    /// <summary>A reply is partly written; still under the request deadline.</summary>
    Writing,

    /// <summary>An ALIVE2 connection that holds a registration: no deadline, any event ends it.</summary>
    Registered,

    /// <summary>An ALIVE2 connection whose request was refused: kept as OTP does, with a deadline.</summary>
    RefusedAlive,
}

internal unsafe struct EpmdConnection
{
    public ConnectionState State;
    public AfterReply After;
    public bool IsLocal;

    /// <summary>Request bytes buffered in Input (split requests only).</summary>
    public int InCount;

    /// <summary>A pooled 3,060-byte block, taken only while a split request is being read; else null.</summary>
    public byte* Input;

    public OutgoingReply Reply;

    /// <summary>The registry record this connection owns, or -1.</summary>
    public int Record;

    /// <summary>The registration's key (Decision.StoreKey): its socket's name in a descriptor store; 0 when none.</summary>
    public ulong StoreKey;
}
