// RLIMIT_NOFILE decides the connection table's default size.
namespace FastEpmd.Interop;

internal static unsafe class DescriptorLimit
{
    /// <summary>Descriptors kept back for the runtime, listeners, epoll, eventfd and the spare.</summary>
    public const int Reserve = 64;

    /// <summary>Raises the soft limit to the hard one (as most daemons do) and returns the soft limit.</summary>
    public static long RaiseToHard()
    {
        long soft, hard;
        if (Shim.GetNofileLimit(&soft, &hard) < 0) return 1024;
        if (soft < hard && Shim.SetNofileLimit(hard) >= 0) soft = hard;
        return soft;
    }

    /// <summary>
    /// The default table: a slot for every descriptor we may open, less the reserve, and at most
    /// 65,536, so a container's usual 1,048,576 descriptors do not size the table by themselves
    /// (-max_connections goes higher).
    /// </summary>
    public const int DefaultTableCeiling = 65_536;

    /// <summary>The default table size for a soft limit.</summary>
    public static int TableSizeFor(long softLimit) =>
        (int)Math.Clamp(softLimit - Reserve, 16, DefaultTableCeiling);
}
