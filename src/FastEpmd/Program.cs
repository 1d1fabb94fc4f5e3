// fastepmd: parse OTP epmd's command line, then run the daemon or a client command.
using FastEpmd.CommandLine;
using FastEpmd.Daemon;
using FastEpmd.Diagnostics;
using FastEpmd.Service;

namespace FastEpmd;

internal static class Program
{
    private static int Main(string[] args)
    {
        Interop.Shim.NoteManagedStart();
        var parsed = OptionParser.Parse(args, Environment.GetEnvironmentVariable);
        if (parsed.ExitCode is int code)
        {
            using var stderr = DescriptorStream.StandardError();
            if (parsed.Stderr is not null) stderr.Write(System.Text.Encoding.ASCII.GetBytes(parsed.Stderr));
            return code;
        }
        var options = parsed.Options;
        if (options.Command == EpmdCommand.Daemon) return DaemonHost.Run(options, args);
        // The parser guarantees that -stop's name is the last argument.
        byte[]? stopName = options.Command == EpmdCommand.Stop ? RawArguments.Get(args, args.Length - 1) : null;
        return RunClient(options, stopName);
    }

    private static int RunClient(EpmdOptions options, byte[]? stopName)
    {
        try
        {
            // Raw streams: the client's output is bytes (DUMP passes NULs through), not text.
            // Disposing the buffered stdout flushes it, inside the try.
            using var stdout = new BufferedStream(DescriptorStream.StandardOutput(), 8192);
            using var stderr = DescriptorStream.StandardError();
            return ClientCommands.Run(options, stdout, stderr, stopName);
        }
        catch (IOException)
        {
            // stdout closed under us (a reader that went away). OTP dies of SIGPIPE there; the
            // runtime ignores SIGPIPE, so we fail quietly instead of dumping an exception.
            return 1;
        }
    }
}
