// The peer of an accepted connection, as accept4 reported it: what an endpoint's accept gate decides on.
namespace FastEpmd.Interop;

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

    /// <summary>The address's bytes (4 or 16), as the access rules key them.</summary>
    public ReadOnlySpan<byte> AddressBytes
    {
        get
        {
            fixed (byte* address = Address) return new ReadOnlySpan<byte>(address, AddressLength);
        }
    }
}
