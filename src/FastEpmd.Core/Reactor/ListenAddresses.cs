// Which addresses to listen on (spec 5.2), decided from the options alone.
//   no list:        0.0.0.0 and ::
//   -address LIST:  127.0.0.1 and ::1 (best effort), then each listed address
//   -loopback_only: 127.0.0.1 and ::1
using System.Net;
using System.Net.Sockets;
using FastEpmd.Service;

namespace FastEpmd.Reactor;

internal static class ListenAddresses
{
    /// <summary>OTP's limit: 16 sockets minus one.</summary>
    public const int MaxSockets = 15;

    private static readonly byte[] s_loopback4 = { 127, 0, 0, 1 };
    private static readonly byte[] s_loopback6 = IPAddress.IPv6Loopback.GetAddressBytes();
    private static readonly byte[] s_any4 = { 0, 0, 0, 0 };
    private static readonly byte[] s_any6 = new byte[16];

    /// <summary>The plan, or an error message (OTP exits 1 with it).</summary>
    public static IReadOnlyList<ListenAddress> Plan(EpmdOptions options, out string? error)
    {
        error = null;
        var loopback = new List<ListenAddress>
        {
            new(false, s_loopback4, Implicit: true),
            new(true, s_loopback6, Implicit: true),
        };
        if (options.LoopbackOnly) return loopback;

        var tokens = options.Addresses
            .SelectMany(a => a.Split(new[] { ',', ' ' }, StringSplitOptions.RemoveEmptyEntries))
            .ToList();
        if (tokens.Count == 0)
        {
            return new List<ListenAddress> { new(false, s_any4, Implicit: true), new(true, s_any6, Implicit: true) };
        }

        var plan = new List<ListenAddress>(loopback);
        foreach (var token in tokens)
        {
            if (!TryParse(token, out var address))
            {
                error = $"cannot parse IP address \"{token}\"";
                return Array.Empty<ListenAddress>();
            }
            if (address.Address.AsSpan().SequenceEqual(s_loopback4) || address.Address.AsSpan().SequenceEqual(s_loopback6))
                continue;
            // OTP binds the implicit loopback first and then dies silently on 0.0.0.0/:: with
            // EADDRINUSE. The wildcard already covers loopback, so we drop the implicit one.
            if (address.Address.AsSpan().SequenceEqual(s_any4)) plan.RemoveAll(p => p.Implicit && !p.IsIPv6);
            if (address.IsIPv6 && address.Address.AsSpan().SequenceEqual(s_any6)) plan.RemoveAll(p => p.Implicit && p.IsIPv6);
            plan.Add(address);
            if (plan.Count > MaxSockets)
            {
                error = "cannot listen on more than 16 IP addresses";
                return Array.Empty<ListenAddress>();
            }
        }
        return plan;
    }

    /// <summary>IPv6 first, then strict dotted-quad IPv4, as OTP's inet_pton order.</summary>
    public static bool TryParse(string token, out ListenAddress address)
    {
        address = default;
        if (token.Contains(':'))
        {
            // IPAddress also takes "[::1]", "[::1]:80" and "fe80::1%eth0"; inet_pton takes none.
            if (!token.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.')) return false;
            if (!IPAddress.TryParse(token, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
                return false;
            address = new ListenAddress(true, v6.GetAddressBytes(), Implicit: false);
            return true;
        }
        var parts = token.Split('.');
        if (parts.Length != 4) return false;
        var bytes = new byte[4];
        for (int i = 0; i < 4; i++)
        {
            // inet_pton refuses leading zeros ("01"), which other parsers read as octal or decimal.
            if (parts[i].Length is 0 or > 3 || (parts[i].Length > 1 && parts[i][0] == '0')
                || !parts[i].All(char.IsAsciiDigit) || !byte.TryParse(parts[i], out bytes[i]))
                return false;
        }
        address = new ListenAddress(false, bytes, Implicit: false);
        return true;
    }
}
