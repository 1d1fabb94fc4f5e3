// A validated state image: its records by slot, and the slots dropped because a write was cut short.
using FastEpmd.Registry;

namespace FastEpmd.Restart;

internal sealed class DecodedState
{
    public DecodedState(int slotCount) => SlotCount = slotCount;

    public int SlotCount { get; }
    public List<RestoredRecord> Records { get; } = new();

    /// <summary>Slots whose own checksum failed, with why: each is one dropped record.</summary>
    public List<(int Slot, string Why)> Dropped { get; } = new();
}
