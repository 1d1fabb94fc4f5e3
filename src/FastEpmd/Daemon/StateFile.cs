// The state memfd under systemd's descriptor store: the image a restart finds as FDNAME=state, mapped
// shared so StateMirror's slot writes are in it the moment they are made. A passed memfd is reused
// in place when it is valid and big enough; otherwise a fresh one replaces it in the store.
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Restart;

namespace FastEpmd.Daemon;

internal sealed class StateFile : IDisposable
{
    private readonly MappedFile _map;

    private StateFile(int fd, MappedFile map, int slotCount, bool fresh)
    {
        Fd = fd;
        _map = map;
        Mirror = new StateMirror(map.Memory, slotCount);
        Fresh = fresh;
    }

    /// <summary>The memfd (ours to close once the store has its copy).</summary>
    public int Fd { get; private set; }

    public StateMirror Mirror { get; }

    /// <summary>Created here (needs WriteAll and FDSTORE), not reused from the store.</summary>
    public bool Fresh { get; }

    /// <summary>A passed memfd's bytes, copied for decoding (holes stay unallocated); null, with why, when it cannot be read.</summary>
    public static SparseCopy? ReadPassed(int fd, out string? reason)
    {
        reason = null;
        long size = MappedFile.SizeOf(fd);
        if (size < 0) reason = $"the state descriptor {fd} cannot be examined: {Errno.Describe((int)-size)}";
        else if (size < StateImage.HeaderLength) reason = $"state memfd truncated: {size} bytes, shorter than its header";
        if (reason != null) return null;
        var copy = SparseCopy.Read(fd, size, out string? error);
        if (copy == null) reason = $"the state descriptor {fd} cannot be read: {error}";
        return copy;
    }

    /// <summary>Keeps using a passed memfd whose image is valid and has slotCount slots; null when it cannot be mapped.</summary>
    public static StateFile? Reuse(int fd, int slotCount, Log log)
    {
        var map = MappedFile.Map(fd, StateImage.LengthFor(slotCount), out string? error);
        if (map != null) return new StateFile(fd, map, slotCount, fresh: false);
        if (log.On(0)) log.Write(0, "descriptor store: the passed state memfd cannot be mapped (" + error + "); writing a new one");
        return null;
    }

    /// <summary>A new memfd for slotCount slots (sparse: pages are used as slots are written); null when it cannot be had.</summary>
    public static StateFile? Create(int slotCount, Log log)
    {
        long length = StateImage.LengthFor(slotCount);
        int fd = MappedFile.CreateMemfd("fastepmd-state", length);
        if (fd < 0)
        {
            if (log.On(0)) log.Write(0, "descriptor store not used: memfd_create: " + Errno.Describe(-fd));
            return null;
        }
        var map = MappedFile.Map(fd, length, out string? error);
        if (map == null)
        {
            if (log.On(0)) log.Write(0, "descriptor store not used: " + error);
            SocketIo.Close(fd);
            return null;
        }
        return new StateFile(fd, map, slotCount, fresh: true);
    }

    /// <summary>Closes our descriptor; the mapping (and the store's copy) keep the memfd.</summary>
    public void CloseDescriptor()
    {
        if (Fd < 0) return;
        SocketIo.Close(Fd);
        Fd = -1;
    }

    public void Dispose()
    {
        CloseDescriptor();
        ((IDisposable)_map).Dispose();
    }
}
