// One daemon under test: started on a free port below the ephemeral range, timed until a connect
// succeeds, measured through /proc, and stopped by PID.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FastEpmd.Load.Harness;

internal enum DaemonKind
{
    FastEpmd,
    Otp,

    /// <summary>bench/floor/epmd_floor.c: a bare epoll server, the kernel's cost of the same exchange.</summary>
    Floor,
}

/// <summary>What to start: a kind, its binary, extra flags (a FastEpmd variant) and the label the report uses.</summary>
internal sealed record DaemonSpec(DaemonKind Kind, string Path, IReadOnlyList<string> Args, string Label);

internal sealed class Daemon : IDisposable
{
    private readonly Process _process;

    private Daemon(DaemonKind kind, string label, Process process, int port, double startMs, double firstReplyMs)
    {
        Kind = kind;
        Label = label;
        _process = process;
        Port = port;
        StartToConnectMs = startMs;
        StartToFirstReplyMs = firstReplyMs;
    }

    public DaemonKind Kind { get; }
    public string Label { get; }
    public int Pid => _process.Id;
    public int Port { get; }

    /// <summary>From just before Process.Start to the first successful connect.</summary>
    public double StartToConnectMs { get; }

    /// <summary>From just before Process.Start to a complete NAMES reply.</summary>
    public double StartToFirstReplyMs { get; }

    public bool HasExited => _process.HasExited;

    public CpuSample Cpu() => ProcStats.Cpu(Pid);
    public long RssKb() => ProcStats.StatusKb(Pid, "VmRSS");
    public long PeakRssKb() => ProcStats.StatusKb(Pid, "VmHWM");

    public static string Describe(DaemonKind kind, IReadOnlyList<string>? args = null) => kind switch
    {
        DaemonKind.FastEpmd => args is null || args.Count == 0 ? "FastEpmd" : $"FastEpmd {string.Join(' ', args)}",
        DaemonKind.Floor => "kernel floor",
        _ => "OTP epmd",
    };

    /// <summary>Starts the daemon on a free port (retrying another port if the one picked got taken), on the daemon core.</summary>
    public static Daemon Start(DaemonSpec spec, int? maxConnections = null, string? label = null)
    {
        var kind = spec.Kind;
        string path = spec.Path;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            int port = FastEpmd.Testing.Ports.Free();
            var args = new List<string> { "-port", port.ToString(), "-relaxed_command_check" };
            args.AddRange(spec.Args);
            if (kind == DaemonKind.FastEpmd && maxConnections is int max)
            {
                args.Add("-max_connections");
                args.Add(max.ToString());
            }
            var psi = new ProcessStartInfo(path)
            {
                UseShellExecute = false,
                RedirectStandardInput = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var a in args) psi.ArgumentList.Add(a);
            psi.Environment.Remove("ERL_EPMD_PORT");
            psi.Environment.Remove("ERL_EPMD_ADDRESS");

            var clock = Stopwatch.StartNew();
            var process = Affinity.OnDaemonCpu(() => Process.Start(psi)) ?? throw new InvalidOperationException("cannot start " + path);
            Children.Track(process);
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            double connectMs = WaitForConnect(process, port, clock);
            if (connectMs < 0)
            {
                Children.Stop(process);
                continue;   // port raced away, or the daemon died: try again
            }
            double replyMs = FirstNamesReply(port, clock);
            return new Daemon(kind, label ?? spec.Label, process, port, connectMs, replyMs);
        }
        throw new InvalidOperationException($"{spec.Label} did not start serving ({path})");
    }

    private static double WaitForConnect(Process process, int port, Stopwatch clock)
    {
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        while (clock.ElapsedMilliseconds < 5000)
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                s.Connect(endpoint);
                return clock.Elapsed.TotalMilliseconds;
            }
            catch (SocketException)
            {
                if (process.HasExited) return -1;
                Thread.SpinWait(200);
            }
        }
        return -1;
    }

    private static double FirstNamesReply(int port, Stopwatch clock)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Connect(new IPEndPoint(IPAddress.Loopback, port));
        s.Send(Requests.Names);
        var buffer = new byte[64];
        int total = 0;
        int n;
        while ((n = s.Receive(buffer, total, buffer.Length - total, SocketFlags.None)) > 0) total += n;
        return total >= 4 ? clock.Elapsed.TotalMilliseconds : -1;
    }

    public void Dispose() => Children.Stop(_process);
}
