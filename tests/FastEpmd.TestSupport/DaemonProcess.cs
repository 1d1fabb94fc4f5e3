// A daemon under test, started on a free loopback port and always killed by its PID.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

namespace FastEpmd.Testing;

public sealed class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    public int Port { get; }
    public int Pid => _process.Id;
    public string Binary { get; }
    public Process Process => _process;

    private DaemonProcess(Process process, int port, string binary)
    {
        _process = process;
        Port = port;
        Binary = binary;
    }

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }
    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }
    public bool HasExited => _process.HasExited;

    /// <summary>Starts FastEpmd (FASTEPMD_BIN, or the built binary) with OTP-style arguments.</summary>
    public static DaemonProcess StartFastEpmd(params string[] args) =>
        Start(Binaries.FastEpmd, args, null);

    /// <summary>Starts OTP's /usr/bin/epmd (OTP_EPMD_BIN to override).</summary>
    public static DaemonProcess StartOtp(params string[] args) =>
        Start(Binaries.Otp, args, null);

    /// <summary>
    /// Starts binary with "-port P" prepended (unless args already name -port) and waits until
    /// 127.0.0.1:P accepts. env entries with a null value are removed from the environment.
    /// </summary>
    public static DaemonProcess Start(string binary, string[] args, IDictionary<string, string?>? env,
        int? port = null, bool waitForListen = true)
    {
        int p = port ?? Ports.Free();
        var psi = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (!args.Contains("-port") && port is null)
        {
            psi.ArgumentList.Add("-port");
            psi.ArgumentList.Add(p.ToString());
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        EpmdEnvironment.Apply(psi, env);
        var process = new Process { StartInfo = psi };
        var daemon = new DaemonProcess(process, p, binary);
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (daemon._stdout) daemon._stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (daemon._stderr) daemon._stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (waitForListen && !daemon.WaitListening(TimeSpan.FromSeconds(10)))
        {
            var message = $"{binary} {string.Join(' ', psi.ArgumentList)} did not listen on {p}; " +
                $"exited={process.HasExited} stderr={daemon.Stderr}";
            daemon.Dispose();
            throw new InvalidOperationException(message);
        }
        return daemon;
    }

    /// <summary>Starts binary with "-port P" and args under `ulimit -n limit` (soft and hard): bash execs it, so the PID is the daemon's.</summary>
    public static DaemonProcess StartUnderDescriptorLimit(string binary, int limit, params string[] args)
    {
        int port = Ports.Free();
        var command = $"ulimit -n {limit} && exec '{binary}' -port {port} {string.Join(' ', args)}";
        return DaemonProcess.Start("/bin/bash", new[] { "-c", command }, null, port: port);
    }

    /// <summary>Waits until both loopbacks accept (::1 only where the host has IPv6).</summary>
    public bool WaitListening(TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        var targets = new List<IPAddress> { IPAddress.Loopback };
        if (Socket.OSSupportsIPv6) targets.Add(IPAddress.IPv6Loopback);
        foreach (var address in targets)
        {
            while (true)
            {
                if (_process.HasExited || sw.Elapsed >= timeout) return false;
                using var s = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    s.Connect(new IPEndPoint(address, Port));
                    break;
                }
                catch (SocketException)
                {
                    Thread.Sleep(10);
                }
            }
        }
        return true;
    }

    /// <summary>Waits for the process to exit; returns its exit code, or null on timeout.</summary>
    public int? WaitExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit((int)timeout.TotalMilliseconds)) return null;
        _process.WaitForExit(); // flush the async readers
        return _process.ExitCode;
    }

    public RawEpmdClient Connect(string host = "127.0.0.1") => RawEpmdClient.Connect(Port, host);

    /// <summary>Sends one request and reads the whole reply until the daemon closes.</summary>
    public ReadResult Request(byte[] bytes, TimeSpan? timeout = null)
    {
        using var c = Connect();
        c.Send(bytes);
        return c.ReadToEnd(timeout);
    }

    public ReadResult Request(string hex, TimeSpan? timeout = null) => Request(Hex.Parse(hex), timeout);

    public void Signal(int signal) => Native.Kill(_process.Id, signal);

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: false);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}

public static class Binaries
{
    public static string RepoRoot
    {
        get
        {
            var fromAssembly = typeof(Binaries).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "RepoRoot")?.Value;
            if (!string.IsNullOrEmpty(fromAssembly) && Directory.Exists(fromAssembly)) return fromAssembly;
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir != null && !File.Exists(Path.Combine(dir.FullName, "FastEpmd.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("repo root not found");
        }
    }

    /// <summary>FASTEPMD_BIN, else the newest built `fastepmd` under src/FastEpmd/bin.</summary>
    public static string FastEpmd
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("FASTEPMD_BIN");
            if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
            var bin = Path.Combine(RepoRoot, "src", "FastEpmd", "bin");
            var found = Directory.Exists(bin)
                ? Directory.EnumerateFiles(bin, "fastepmd", SearchOption.AllDirectories)
                    .Where(p => !p.Contains("/publish/") && !p.Contains("/native/"))
                    .OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
                : null;
            return found ?? throw new InvalidOperationException("fastepmd is not built: run ./build.sh or set FASTEPMD_BIN");
        }
    }

    public static string Otp => Environment.GetEnvironmentVariable("OTP_EPMD_BIN") is { Length: > 0 } p ? p : "/usr/bin/epmd";
}

public static class Native
{
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int sig);

    public static void Kill(int pid, int signal)
    {
        if (SysKill(pid, signal) != 0)
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
    }

    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGKILL = 9, SIGUSR1 = 10, SIGPIPE = 13, SIGTERM = 15;
}
