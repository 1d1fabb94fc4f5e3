// Free loopback ports below the ephemeral range (32768+), so a TIME_WAIT socket never blocks a bind.
using System.Net;
using System.Net.Sockets;

namespace FastEpmd.Testing;

public static class Ports
{
    private static int s_next = 12000 + (Environment.ProcessId * 37) % 15000;
    private static readonly object s_lock = new();

    public static int Free()
    {
        lock (s_lock)
        {
            for (int attempt = 0; attempt < 2000; attempt++)
            {
                int port = s_next++;
                if (s_next >= 31000) s_next = 12000;
                if (CanBind(IPAddress.Any, port) && CanBind(IPAddress.IPv6Any, port)) return port;
            }
        }
        throw new InvalidOperationException("no free port below 31000");
    }

    private static bool CanBind(IPAddress address, int port)
    {
        try
        {
            using var s = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (address.AddressFamily == AddressFamily.InterNetworkV6) s.DualMode = false;
            s.Bind(new IPEndPoint(address, port));
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressFamilyNotSupported)
        {
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
