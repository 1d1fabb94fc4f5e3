// The layout of every struct the C# side shares with libc (Tmds.LibC's declarations, one assembly per
// architecture) or the shim, beside the C compiler's for the same platform (fe_struct_layout): the
// daemon refuses to start on any difference. struct epoll_event, for one, is packed (12 bytes, data
// at 4) on x86-64 and not on arm64 (16 bytes, data at 8).
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace FastEpmd.Interop;

internal static unsafe class StructLayouts
{
    /// <summary>One row: a struct's size ("epoll_event") or a field's offset ("epoll_event.data").</summary>
    public readonly struct Row(string name, int value)
    {
        public string Name { get; } = name;
        public int Value { get; } = value;
        public Row WithValue(int value) => new(Name, value);
    }

    /// <summary>This build's rows, in fe_abi.c's order.</summary>
    public static Row[] Managed()
    {
        // A field Tmds.LibC exposes as a property (over a private field) is found where a write
        // through the property lands; a public field by its address.
        NativePollEvent pe = default;
        epoll_event ee = default;
        sockaddr_in s4 = default;
        sockaddr_in6 s6 = default;
        sockaddr_un su = default;
        stat st = default;
        var rows = new List<Row>
        {
            new("fe_poll_event", sizeof(NativePollEvent)),
            new("fe_poll_event.token", Offset(&pe, &pe.Token)),
            new("fe_poll_event.events", Offset(&pe, &pe.Events)),
        };
        if (OperatingSystem.IsLinux())
        {
            rows.AddRange(
            [
                new("epoll_event", sizeof(epoll_event)),
                new("epoll_event.events", Offset(&ee, &ee.events)),
                new("epoll_event.data", Offset(&ee, &ee.data)),
                new("pollfd", sizeof(pollfd)),
                new("pollfd.fd", WrittenAt((pollfd* p) => p->fd = 0x01010101)),
                new("pollfd.events", WrittenAt((pollfd* p) => p->events = 0x0101)),
                new("pollfd.revents", WrittenAt((pollfd* p) => p->revents = 0x0101)),
                new("sockaddr_in", sizeof(sockaddr_in)),
                new("sockaddr_in.sin_family", WrittenAt((sockaddr_in* p) => p->sin_family = (ushort)0x0101)),
                new("sockaddr_in.sin_port", WrittenAt((sockaddr_in* p) => p->sin_port = 0x0101)),
                new("sockaddr_in.sin_addr", Offset(&s4, &s4.sin_addr)),
                new("sockaddr_in6", sizeof(sockaddr_in6)),
                new("sockaddr_in6.sin6_family", WrittenAt((sockaddr_in6* p) => p->sin6_family = (ushort)0x0101)),
                new("sockaddr_in6.sin6_port", WrittenAt((sockaddr_in6* p) => p->sin6_port = 0x0101)),
                new("sockaddr_in6.sin6_flowinfo", WrittenAt((sockaddr_in6* p) => p->sin6_flowinfo = 0x01010101)),
                new("sockaddr_in6.sin6_addr", Offset(&s6, &s6.sin6_addr)),
                new("sockaddr_in6.sin6_scope_id", WrittenAt((sockaddr_in6* p) => p->sin6_scope_id = 0x01010101)),
                new("sockaddr_un", sizeof(sockaddr_un)),
                new("sockaddr_un.sun_family", WrittenAt((sockaddr_un* p) => p->sun_family = (ushort)0x0101)),
                new("sockaddr_un.sun_path", Offset(&su, su.sun_path)),
                new("sockaddr_storage", sizeof(sockaddr_storage)),
                new("sockaddr_storage.ss_family", WrittenAt((sockaddr_storage* p) => p->ss_family = (ushort)0x0101)),
                new("ucred", sizeof(ucred)),
                new("ucred.pid", WrittenAt((ucred* p) => p->pid = 0x01010101)),
                new("ucred.uid", WrittenAt((ucred* p) => p->uid = 0x01010101u)),
                new("ucred.gid", WrittenAt((ucred* p) => p->gid = 0x01010101u)),
                new("stat", sizeof(stat)),
                new("stat.st_mode", Offset(&st, &st.st_mode)),
                new("stat.st_size", Offset(&st, &st.st_size)),
            ]);
        }
        return rows.ToArray();
    }

    /// <summary>The shim's rows (the C compiler's layouts for this platform), in order.</summary>
    public static Row[] Native()
    {
        var rows = new List<Row>();
        for (int i = 0; ; i++)
        {
            byte* name = null;
            int value = Shim.StructLayout(i, &name);
            if (value < 0) return rows.ToArray();
            rows.Add(new Row(Marshal.PtrToStringUTF8((nint)name)!, value));
        }
    }

    /// <summary>Every difference between the two tables ("epoll_event: C# 12, C 16"), or none.</summary>
    public static List<string> Differences(Row[] managed, Row[] native)
    {
        var differences = new List<string>();
        for (int i = 0; i < Math.Max(managed.Length, native.Length); i++)
        {
            if (i >= managed.Length) differences.Add(native[i].Name + ": not in C#");
            else if (i >= native.Length) differences.Add(managed[i].Name + ": not in the shim");
            else if (managed[i].Name != native[i].Name) differences.Add($"row {i}: C# {managed[i].Name}, C {native[i].Name}");
            else if (managed[i].Value != native[i].Value) differences.Add($"{managed[i].Name}: C# {managed[i].Value}, C {native[i].Value}");
        }
        return differences;
    }

    private static int Offset(void* start, void* field) => (int)((byte*)field - (byte*)start);

    private delegate void Write<T>(T* value) where T : unmanaged;

    // The first byte a write changes in a zeroed struct (every value written has no zero byte).
    private static int WrittenAt<T>(Write<T> write) where T : unmanaged
    {
        T value = default;
        write(&value);
        byte* bytes = (byte*)&value;
        for (int i = 0; i < sizeof(T); i++)
            if (bytes[i] != 0) return i;
        return -1;
    }
}
