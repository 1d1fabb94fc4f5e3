// The peer of an accepted connection, as accept4 reported it: what the accept gate decides on.
namespace FastEpmd.Reactor;

internal unsafe struct PeerAddress
{
    /// <summary>AF_INET or AF_INET6 (0 when the kernel gave no address).</summary>
    public ushort Family;
    public ushort Port;

    /// <summary>OTP's rule (loopback, or this host's own address): may register, DUMP, KILL, STOP.</summary>
    public bool IsLocal;

    /// <summary>4 bytes (IPv4) or 16 (IPv6), network order.</summary>
    public fixed byte Address[16];

    public int AddressLength => Family == (ushort)Tmds.Linux.LibC.AF_INET6 ? 16 : 4;

    /// <summary>The address as the access rules key it (-allow, -max_per_peer).</summary>
    public Service.PeerIp ToPeerIp()
    {
        fixed (byte* address = Address) return Service.PeerIp.FromBytes(new ReadOnlySpan<byte>(address, AddressLength));
    }
}
