// Every call into native-shim (libfastepmd_shim): the few things Tmds.LibC does not bind.
// Each returns >= 0 on success and -errno on failure, so no SetLastError is needed.
using System.Runtime.InteropServices;

[assembly: System.Runtime.CompilerServices.DisableRuntimeMarshalling]

namespace FastEpmd.Interop;

internal static unsafe partial class Shim
{
    public const string Library = "fastepmd_shim";

    /// <summary>The ABI this code was written against (FE_ABI_VERSION in fastepmd_shim.h).</summary>
    public const int ExpectedAbiVersion = 6;

    /// <summary>FE_FD_PASS_MAX: descriptors in one fe_fd_send or fe_fd_recv (the kernel's SCM_MAX_FD).</summary>
    public const int MaxPassedFds = 253;

    [LibraryImport(Library, EntryPoint = "fe_abi_version")]
    [SuppressGCTransition]
    public static partial int AbiVersion();

    /// <summary>Row index of the C layout table (StructLayouts): the size or offset, *name set; -EINVAL past the end.</summary>
    [LibraryImport(Library, EntryPoint = "fe_struct_layout")]
    [SuppressGCTransition]
    public static partial int StructLayout(int index, byte** name);

    [LibraryImport(Library, EntryPoint = "fe_note_managed_start")]
    [SuppressGCTransition]
    public static partial int NoteManagedStart();

    [LibraryImport(Library, EntryPoint = "fe_get_nofile_limit")]
    public static partial int GetNofileLimit(long* soft, long* hard);

    [LibraryImport(Library, EntryPoint = "fe_set_nofile_limit")]
    public static partial int SetNofileLimit(long soft);

    [LibraryImport(Library, EntryPoint = "fe_kq_create")]
    public static partial int KqueueCreate();

    [LibraryImport(Library, EntryPoint = "fe_kq_set")]
    public static partial int KqueueSet(int kq, int fd, ulong token, uint interest);

    [LibraryImport(Library, EntryPoint = "fe_kq_remove")]
    public static partial int KqueueRemove(int kq, int fd);

    [LibraryImport(Library, EntryPoint = "fe_kq_wait")]
    public static partial int KqueueWait(int kq, NativePollEvent* events, int capacity, int timeoutMs);

    [LibraryImport(Library, EntryPoint = "fe_inet_pton")]
    public static partial int InetPton(byte* text, byte* address);

    [LibraryImport(Library, EntryPoint = "fe_inet_ntop")]
    public static partial int InetNtop(int isIPv6, byte* address, byte* text, int capacity);

    [LibraryImport(Library, EntryPoint = "fe_peer_text")]
    public static partial int PeerText(int fd, byte* text, int capacity);

    [LibraryImport(Library, EntryPoint = "fe_spawn_detached")]
    public static partial int SpawnDetached(byte* path, byte** argv, byte** envp, int keepFd, int* pid);

    [LibraryImport(Library, EntryPoint = "fe_syslog_open")]
    public static partial int SyslogOpen(byte* ident);

    [LibraryImport(Library, EntryPoint = "fe_syslog_error")]
    public static partial int SyslogError(byte* message);

    /// <summary>sendmsg of data plus fds (SCM_RIGHTS), to addr when addrLength > 0; the bytes sent or -errno.</summary>
    [LibraryImport(Library, EntryPoint = "fe_fd_send")]
    public static partial int FdSend(int sock, byte* data, int length, int* fds, int fdCount, void* addr, int addrLength);

    /// <summary>recvmsg with descriptors (MSG_CMSG_CLOEXEC); the bytes received or -errno (-EMSGSIZE: cut, nothing kept).</summary>
    [LibraryImport(Library, EntryPoint = "fe_fd_recv")]
    public static partial int FdReceive(int sock, byte* data, int length, int* fds, int maxFds, int* fdCount);

    [LibraryImport(Library, EntryPoint = "fe_ctime_now")]
    public static partial int CTimeNow(byte* text, int capacity);

    [LibraryImport(Library, EntryPoint = "fe_utc_now_iso")]
    public static partial int UtcNowIso(byte* text, int capacity);

    /// <summary>
    /// Throws when the loaded shim is not the one this build expects, or when a struct shared with
    /// libc or the shim is laid out otherwise in C on this platform (StructLayouts).
    /// </summary>
    public static void CheckAbi()
    {
        int version = AbiVersion();
        if (version != ExpectedAbiVersion)
            throw new InvalidOperationException($"libfastepmd_shim ABI {version}, expected {ExpectedAbiVersion}");
        var differences = StructLayouts.Differences(StructLayouts.Managed(), StructLayouts.Native());
        if (differences.Count > 0)
            throw new InvalidOperationException("struct layouts differ from C's on this platform: " + string.Join("; ", differences));
    }
}

/// <summary>fe_poll_event: one readiness event from the kqueue backend.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativePollEvent
{
    public ulong Token;
    public uint Events;
    public uint Reserved;
}
