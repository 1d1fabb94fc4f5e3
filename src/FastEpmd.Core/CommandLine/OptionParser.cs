// argv + ERL_EPMD_* environment -> EpmdOptions, with OTP epmd's rules (its main() in epmd.c):
// left to right, numbers read with atoi, and the usage text for anything it does not accept.
using FastEpmd.Service;

namespace FastEpmd.CommandLine;

internal static class OptionParser
{
    public const string PortVariable = "ERL_EPMD_PORT";
    public const string AddressVariable = "ERL_EPMD_ADDRESS";
    public const string RelaxedVariable = "ERL_EPMD_RELAXED_COMMAND_CHECK";
    public const string AllowVariable = "ERL_EPMD_ALLOW";

    /// <summary>The daemon's own ceiling for the table size (DescriptorLimit.TableSizeFor).</summary>
    public const int MaxConnectionsLimit = 1 << 22;

    public static ParseResult Parse(IReadOnlyList<string> args, Func<string, string?> getEnv)
    {
        // The environment is read first and the flags override it, as in OTP.
        // ERL_EPMD_PORT is not validated: "abc" is port 0, which binds random ports.
        string? port = getEnv(PortVariable);
        var options = new EpmdOptions
        {
            Port = port is null ? EpmdOptions.DefaultPort : CAtoi.Parse(port),
            Addresses = SplitAddresses(getEnv(AddressVariable)),
            // Present with any value, even "0" or "", means relaxed.
            RelaxedCommandCheck = getEnv(RelaxedVariable) is not null,
        };

        // -allow replaces ERL_EPMD_ALLOW (as -address replaces ERL_EPMD_ADDRESS); empty is unset.
        string? allow = getEnv(AllowVariable) is { Length: > 0 } allowVariable ? allowVariable : null;

        int i = 0;
        while (i < args.Count)
        {
            int left = args.Count - i;
            string? value = left > 1 ? args[i + 1] : null;
            switch (args[i])
            {
                case "-d":
                case "-debug":
                    options = options with { DebugLevel = options.DebugLevel + 1 };
                    i++;
                    break;
                case "-port":
                    if (!TryNonZero(value, out int p)) return ParseResult.Usage(options);
                    options = options with { Port = p };
                    i += 2;
                    break;
                case "-address":
                    // Any string, even an empty one: the list is checked when the daemon binds.
                    if (value is null) return ParseResult.Usage(options);
                    options = options with { Addresses = SplitAddresses(value) };
                    i += 2;
                    break;
                case "-packet_timeout":
                    if (!TryNonZero(value, out int timeout)) return ParseResult.Usage(options);
                    options = options with { PacketTimeoutSeconds = timeout };
                    i += 2;
                    break;
                case "-delay_accept":
                    if (!TryNonZero(value, out int delayAccept)) return ParseResult.Usage(options);
                    options = options with { DelayAcceptSeconds = delayAccept };
                    i += 2;
                    break;
                case "-delay_write":
                    if (!TryNonZero(value, out int delayWrite)) return ParseResult.Usage(options);
                    options = options with { DelayWriteSeconds = delayWrite };
                    i += 2;
                    break;
                case "-daemon":
                    options = options with { RunAsDaemon = true };
                    i++;
                    break;
                case "-relaxed_command_check":
                    options = options with { RelaxedCommandCheck = true };
                    i++;
                    break;
                case "-systemd":
                    options = options with { Systemd = true };
                    i++;
                    break;

                case "-names" when value == "local":
                    // Beyond OTP, which prints the usage for "-names local": a daemon option.
                    options = options with { NamesLocalOnly = true };
                    i += 2;
                    break;

                // OTP runs a client command the moment it meets it, so it must be the last
                // argument (-stop: the last two); anything after it is a usage error.
                case "-names":
                    return ClientCommand(options, EpmdCommand.Names, left == 1);
                case "-started":
                    return ClientCommand(options, EpmdCommand.Started, left == 1);
                case "-dump":
                    return ClientCommand(options, EpmdCommand.Dump, left == 1);
                case "-kill":
                    return ClientCommand(options, EpmdCommand.Kill, left == 1);
                case "-stop":
                    return left == 2
                        ? ParseResult.Run(options with { Command = EpmdCommand.Stop, StopName = value })
                        : ParseResult.Usage(options);

                // Beyond OTP (README.md, "Command line"). Values are strict decimal integers here:
                // there is no old behaviour to keep, and "12abc" or "-5" would only hide mistakes.
                case "-max_connections":
                    if (!TryStrictPositive(value, MaxConnectionsLimit, out int max)) return ParseResult.Usage(options);
                    options = options with { MaxConnections = max };
                    i += 2;
                    break;
                case "-request_deadline_ms":
                    if (!TryStrictPositive(value, int.MaxValue, out int deadline)) return ParseResult.Usage(options);
                    options = options with { RequestDeadlineMs = deadline };
                    i += 2;
                    break;
                case "-reply_memory_mb":
                    if (!TryStrictPositive(value, 1 << 20, out int replyMemory)) return ParseResult.Usage(options);
                    options = options with { ReplyMemoryMb = replyMemory };
                    i += 2;
                    break;
                case "-defer_accept":
                    if (!TryStrictInteger(value, 0, 3600, out int defer)) return ParseResult.Usage(options);
                    options = options with { DeferAcceptSeconds = defer };
                    i += 2;
                    break;
                case "-metrics":
                    if (value is null || !MetricsAddress.TryParse(value, out _, out _)) return ParseResult.Usage(options);
                    options = options with { Metrics = value };
                    i += 2;
                    break;
                case "-log_format":
                    if (value is not ("json" or "text")) return ParseResult.Usage(options);
                    options = options with { JsonLog = value == "json" };
                    i += 2;
                    break;
                case "-accept_batch":
                    if (!TryStrictPositive(value, EpmdOptions.MaxAcceptBatch, out int batch)) return ParseResult.Usage(options);
                    options = options with { AcceptBatch = batch };
                    i += 2;
                    break;
                case "-upgrade":
                    options = options with { Upgrade = true };
                    i++;
                    break;
                case "-loopback_only":
                    options = options with { LoopbackOnly = true };
                    i++;
                    break;
                case "-allow":
                    if (value is null) return ParseResult.Usage(options);
                    allow = value;
                    i += 2;
                    break;
                case "-max_per_peer":
                    if (!TryStrictInteger(value, 0, MaxConnectionsLimit, out int perPeer)) return ParseResult.Usage(options);
                    options = options with { MaxPerPeer = perPeer };
                    i += 2;
                    break;
                case "-peer_prefix6":
                    if (!TryStrictInteger(value, 1, 128, out int prefix6)) return ParseResult.Usage(options);
                    options = options with { PeerPrefix6 = prefix6 };
                    i += 2;
                    break;

                default:
                    return ParseResult.Usage(options);
            }
        }
        if (allow is not null && options.Command == EpmdCommand.Daemon)
        {
            if (!PeerAllowList.TryParse(allow, out var list)) return ParseResult.Usage(options);
            options = options with { Allow = list };
        }
        return ParseResult.Run(options);
    }

    /// <summary>OTP splits the address list at commas and spaces (strtok with ", ").</summary>
    public static IReadOnlyList<string> SplitAddresses(string? list) =>
        list is null ? Array.Empty<string>() : list.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries);

    private static ParseResult ClientCommand(EpmdOptions options, EpmdCommand command, bool isLast) =>
        isLast ? ParseResult.Run(options with { Command = command }) : ParseResult.Usage(options);

    // OTP: "if ((argc == 1) || ((x = atoi(argv[1])) == 0)) usage(g);" so negative values pass.
    private static bool TryNonZero(string? text, out int value)
    {
        value = text is null ? 0 : CAtoi.Parse(text);
        return value != 0;
    }

    private static bool TryStrictPositive(string? text, int max, out int value) => TryStrictInteger(text, 1, max, out value);

    /// <summary>Plain decimal digits (no sign, no spaces) within min..max: FastEpmd's own options are strict.</summary>
    internal static bool TryStrictInteger(string? text, int min, int max, out int value)
    {
        value = 0;
        if (string.IsNullOrEmpty(text) || text.Length > 10) return false;
        long parsed = 0;
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c)) return false;
            parsed = parsed * 10 + (c - '0');
        }
        if (parsed < min || parsed > max) return false;
        value = (int)parsed;
        return true;
    }
}
