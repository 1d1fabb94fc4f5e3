// -metrics ADDRESS:PORT: "9100" (loopback), "0.0.0.0:9100", "[::1]:9100". Strict like the other
// FastEpmd-only options: a port of 1-65535 in plain decimal, an address inet_pton accepts.
using FastEpmd.Interop;

namespace FastEpmd.CommandLine;

internal static class MetricsAddress
{
    private static readonly byte[] s_loopback4 = { 127, 0, 0, 1 };

    public static bool TryParse(string text, out ListenAddress address, out ushort port)
    {
        address = new ListenAddress(false, s_loopback4, Implicit: false);
        port = 0;
        int colon = text.LastIndexOf(':');
        string host = colon < 0 ? "" : text[..colon];
        if (!TryPort(colon < 0 ? text : text[(colon + 1)..], out port)) return false;
        if (colon < 0) return true;
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
            return ListenAddresses.TryParse(host, out address) && address.IsIPv6;
        }
        // An IPv6 address must be bracketed, or its last group would read as the port.
        return host.Length > 0 && !host.Contains(':') && ListenAddresses.TryParse(host, out address) && !address.IsIPv6;
    }

    private static bool TryPort(string text, out ushort port)
    {
        bool ok = OptionParser.TryStrictInteger(text, 1, 65535, out int value);
        port = (ushort)value;
        return ok;
    }
}
