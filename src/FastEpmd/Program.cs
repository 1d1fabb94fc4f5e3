// fastepmd: parse OTP epmd's command line, then run the daemon or a client command.
// (Temporary minimal parser until the full OptionParser lands.)
using FastEpmd.Daemon;
using FastEpmd.Service;

namespace FastEpmd;

internal static class Program
{
    private static int Main(string[] args)
    {
        var o = new EpmdOptions();
        var env = Environment.GetEnvironmentVariable("ERL_EPMD_PORT");
        if (env != null) o = o with { Port = int.TryParse(env, out var ep) ? ep : 0 };
        if (Environment.GetEnvironmentVariable("ERL_EPMD_RELAXED_COMMAND_CHECK") != null) o = o with { RelaxedCommandCheck = true };
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "-port": o = o with { Port = int.Parse(args[++i]) }; break;
                case "-d": case "-debug": o = o with { DebugLevel = o.DebugLevel + 1 }; break;
                case "-relaxed_command_check": o = o with { RelaxedCommandCheck = true }; break;
                case "-packet_timeout": o = o with { PacketTimeoutSeconds = int.Parse(args[++i]) }; break;
                case "-delay_write": o = o with { DelayWriteSeconds = int.Parse(args[++i]) }; break;
                case "-delay_accept": o = o with { DelayAcceptSeconds = int.Parse(args[++i]) }; break;
                case "-max_connections": o = o with { MaxConnections = int.Parse(args[++i]) }; break;
                case "-address": o = o with { Addresses = new[] { args[++i] } }; break;
                case "-daemon": o = o with { RunAsDaemon = true }; break;
                case "-systemd": o = o with { Systemd = true }; break;
                case "-loopback_only": o = o with { LoopbackOnly = true }; break;
                default: Console.Error.WriteLine("usage"); return 1;
            }
        }
        return DaemonHost.Run(o, args);
    }
}
