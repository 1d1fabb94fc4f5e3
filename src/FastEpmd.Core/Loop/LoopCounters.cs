namespace FastEpmd.Loop;

/// <summary>The loop's own counters (what no endpoint sees).</summary>
internal struct LoopCounters
{
    /// <summary>Connections accepted and closed at once while out of descriptors (EMFILE/ENFILE).</summary>
    public long DroppedForNoDescriptors;
}
