// Which addresses to listen on, as OTP chooses them, decided from the options alone.
//   no list:        0.0.0.0 and ::
//   -address LIST:  127.0.0.1 and ::1 (best effort), then each listed address
//   -loopback_only: 127.0.0.1 and ::1
using System.Text;
using FastEpmd.Interop;
using FastEpmd.Service;

namespace FastEpmd.CommandLine;

internal static class ListenAddresses
{
    /// <summary>OTP's limit: 16 sockets minus one.</summary>
    public const int MaxSockets = 15;

    private static readonly byte[] s_loopback4 = { 127, 0, 0, 1 };
    private static readonly byte[] s_loopback6 = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    private static readonly char[] s_separators = { ',', ' ' };
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

        var tokens = Tokens(options.Addresses);
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

    /// <summary>OTP's parse: inet_pton, IPv6 first, then IPv4.</summary>
    public static unsafe bool TryParse(string token, out ListenAddress address)
    {
        address = default;
        byte* bytes = stackalloc byte[16];
        int family;
        fixed (byte* text = Encoding.UTF8.GetBytes(token + "\0")) family = Shim.InetPton(text, bytes);
        if (family < 0) return false;
        address = new ListenAddress(family == 6, new ReadOnlySpan<byte>(bytes, family == 6 ? 16 : 4).ToArray(), Implicit: false);
        return true;
    }

    /// <summary>Splits an address list at commas and spaces, as OTP does.</summary>
    private static List<string> Tokens(IReadOnlyList<string> lists)
    {
        var tokens = new List<string>();
        foreach (var list in lists)
            tokens.AddRange(list.Split(s_separators, StringSplitOptions.RemoveEmptyEntries));
        return tokens;
    }
}
