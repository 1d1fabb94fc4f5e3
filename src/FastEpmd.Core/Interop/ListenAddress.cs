// An address to listen on: the family, its bytes in network order, and whether the daemon chose it
// itself (the loopback addresses -address adds are best effort).
namespace FastEpmd.Interop;

internal readonly record struct ListenAddress(bool IsIPv6, byte[] Address, bool Implicit)
{
    public override unsafe string ToString()
    {
        byte* text = stackalloc byte[64];
        fixed (byte* address = Address)
        {
            int n = Shim.InetNtop(IsIPv6 ? 1 : 0, address, text, 64);
            return n < 0 ? "?" : System.Text.Encoding.ASCII.GetString(text, n);
        }
    }
}
