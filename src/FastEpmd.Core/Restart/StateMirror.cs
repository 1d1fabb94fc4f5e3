// Keeps a state image current as the registry changes: the service hands it each record it changed,
// and the mirror rewrites that record's slot (one slot, a few hundred nanoseconds, no allocation).
// The memory is the caller's: a mapped memfd under systemd's descriptor store, or a test's array.
using FastEpmd.Registry;
using FastEpmd.Service;

namespace FastEpmd.Restart;

internal sealed class StateMirror : IRegistryMirror
{
    private readonly Memory<byte> _image;

    /// <param name="image">At least StateImage.LengthFor(slotCount) bytes.</param>
    public StateMirror(Memory<byte> image, int slotCount)
    {
        if (image.Length < StateImage.LengthFor(slotCount)) throw new ArgumentException("image too small for its slots", nameof(image));
        _image = image;
        SlotCount = slotCount;
    }

    public int SlotCount { get; }

    /// <summary>Slot rewrites so far (the metric a test reads).</summary>
    public long Writes { get; private set; }

    /// <summary>
    /// Writes a header and every record of the registry into zeroed memory (a new memfd). The rest is
    /// not cleared: touching every page would make a sparse memfd wholly resident.
    /// </summary>
    public void WriteAll(NodeRegistry registry) => StateImage.Write(registry, _image.Span, SlotCount);

    /// <summary>Rewrites one record's slot; false when the record lies beyond the image (never, when sized by SlotsFor).</summary>
    public bool Write(NodeRegistry registry, int record)
    {
        if ((uint)record >= (uint)SlotCount) return false;
        StateSlot.Write(StateSlot.In(_image.Span, record), registry, record);
        Writes++;
        return true;
    }

    /// <summary>
    /// Slots for a registry that serves a table of this many connections: a new record is made only
    /// while at most rememberLimit names are remembered, so records never exceed both together.
    /// </summary>
    public static int SlotsFor(int tableCapacity, int rememberLimit) => tableCapacity + rememberLimit + 1;
}
