// The registry's two lists, linked the one way Register, Unregister and Restore all use: the
// registrations newest first (NAMES order), the remembered names oldest first (the FIFO OTP reuses).
namespace FastEpmd.Registry;

internal sealed partial class NodeRegistry
{
    /// <summary>Puts a record at the head of the registrations.</summary>
    private void LinkRegistered(int record)
    {
        ref var r = ref _records[record];
        r.Prev = -1;
        r.Next = _registeredHead;
        if (_registeredHead >= 0) _records[_registeredHead].Prev = record;
        _registeredHead = record;
        RegisteredCount++;
    }

    /// <summary>Puts a record at the tail of the remembered names.</summary>
    private void LinkRemembered(int record)
    {
        ref var r = ref _records[record];
        r.Next = -1;
        r.Prev = _rememberedTail;
        if (_rememberedTail >= 0) _records[_rememberedTail].Next = record;
        else _rememberedHead = record;
        _rememberedTail = record;
        RememberedCount++;
    }
}
