// A real Erlang node (`erl -sname`) registered with the daemon under test, driven over stdin.
//
// Always `-start_epmd false`: without it erl silently starts OTP's own epmd and registers there,
// and the test would prove nothing. ERL_EPMD_PORT points the node at the daemon under test. Host
// names resolve to 127.0.0.1 through a private inetrc and distribution listens on 127.0.0.1 only,
// so all traffic stays on loopback whatever the machine's hostname resolves to.
//
// The node runs a small command loop (see Script): one line on stdin, one or more lines of
// results on stdout. A watchdog inside the node halts it after MaxLifetime on its own, and stdin
// EOF halts it too; Dispose kills the process we started (and its children) by PID.
using System.Diagnostics;

namespace FastEpmd.Testing;

public sealed class ErlNode : IDisposable
{
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromSeconds(25);
    private static readonly Lazy<string> s_shortHost = new(ReadShortHost);

    private readonly Process _process;
    private readonly List<string> _stdout = new();
    private readonly List<string> _stderr = new();
    private readonly string _workDir;

    private ErlNode(Process process, string name, int distPort, string workDir)
    {
        _process = process;
        Name = name;
        DistPort = distPort;
        _workDir = workDir;
    }

    /// <summary>`hostname -s`, the host part erl uses for -sname.</summary>
    public static string ShortHost => s_shortHost.Value;

    public static string Erl => Environment.GetEnvironmentVariable("ERL_BIN") is { Length: > 0 } p ? p : "/usr/bin/erl";

    public string Name { get; }

    public string FullName => $"{Name}@{ShortHost}";

    public int DistPort { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Stdout { get { lock (_stdout) return string.Join('\n', _stdout); } }

    public string Stderr { get { lock (_stderr) return string.Join('\n', _stderr); } }

    /// <summary>
    /// The command loop, one command per stdin line:
    ///   ping NODE   -> "PING NODE pong|pang"
    ///   names       -> "NAME n port" per entry of erl_epmd:names(), then "NAMES END" (or "NAMES ERROR ...")
    ///   netnames    -> the same from net_adm:names()
    ///   stop        -> "STOPPING", then init:stop()   (orderly shutdown)
    ///   halt        -> halt()                       (immediate)
    /// It prints "READY name@host" first; EOF on stdin or the watchdog halts it.
    /// </summary>
    private static string Script(int lifetimeMs) =>
        "spawn(fun() -> timer:sleep(" + lifetimeMs + "), io:format(\"WATCHDOG~n\"), halt(3) end), " +
        "io:format(\"READY ~s~n\", [node()]), " +
        "Loop = fun Loop() -> " +
        "  case io:get_line(\"\") of " +
        "    eof -> halt(4); " +
        "    {error, _} -> halt(5); " +
        "    Line -> " +
        "      case string:lexemes(string:trim(Line), \" \") of " +
        "        [\"ping\", N] -> io:format(\"PING ~s ~p~n\", [N, net_adm:ping(list_to_atom(N))]), Loop(); " +
        "        [\"names\"] -> " +
        "          case erl_epmd:names() of " +
        "            {ok, Ns} -> [io:format(\"NAME ~s ~b~n\", [Nm, P]) || {Nm, P} <- Ns], io:format(\"NAMES END~n\"); " +
        "            Other -> io:format(\"NAMES ERROR ~p~n\", [Other]) " +
        "          end, Loop(); " +
        "        [\"netnames\"] -> " +
        "          case net_adm:names() of " +
        "            {ok, Ns} -> [io:format(\"NAME ~s ~b~n\", [Nm, P]) || {Nm, P} <- Ns], io:format(\"NAMES END~n\"); " +
        "            Other -> io:format(\"NAMES ERROR ~p~n\", [Other]) " +
        "          end, Loop(); " +
        "        [\"stop\"] -> io:format(\"STOPPING~n\"), init:stop(); " +
        "        [\"halt\"] -> halt(); " +
        "        _ -> io:format(\"UNKNOWN~n\"), Loop() " +
        "      end " +
        "  end " +
        "end, " +
        "Loop().";

    /// <summary>
    /// Starts `erl -sname name` against the epmd on epmdPort, listening for distribution on distPort;
    /// erl names another release's erl (a wrapper that runs it in its root, which sees the host's /tmp).
    /// </summary>
    public static ErlNode Start(string name, int epmdPort, int distPort, string cookie = "c", string? erl = null)
    {
        string workDir = Path.Combine(Path.GetTempPath(), $"erlnode-{Environment.ProcessId}-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(workDir);
        string inetrc = Path.Combine(workDir, "inetrc");
        File.WriteAllText(inetrc, $"{{host, {{127,0,0,1}}, [\"{ShortHost}\"]}}.\n{{lookup, [file, native]}}.\n");

        var psi = new ProcessStartInfo(erl ?? Erl)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir,
        };
        foreach (var arg in new[]
        {
            "-sname", name, "-noshell", "-start_epmd", "false", "-setcookie", cookie,
            "-kernel", "inetrc", $"\"{inetrc}\"",
            "-kernel", "inet_dist_use_interface", "{127,0,0,1}",
            "-kernel", "inet_dist_listen_min", distPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-kernel", "inet_dist_listen_max", distPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-eval", Script((int)MaxLifetime.TotalMilliseconds),
        })
        {
            psi.ArgumentList.Add(arg);
        }
        psi.Environment["ERL_EPMD_PORT"] = epmdPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var v in new[] { "ERL_EPMD_ADDRESS", "ERL_EPMD_RELAXED_COMMAND_CHECK", "ERL_FLAGS", "ERL_AFLAGS", "ERL_ZFLAGS", "ERL_LIBS" })
            psi.Environment.Remove(v);

        var process = new Process { StartInfo = psi };
        var node = new ErlNode(process, name, distPort, workDir);
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (node._stdout) node._stdout.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (node._stderr) node._stderr.Add(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>Start, then wait up to timeout for the node's "READY name@host" line; throws (the node ended) if it does not come.</summary>
    public static ErlNode StartReady(string name, int epmdPort, int distPort, TimeSpan timeout, string? erl = null)
    {
        var node = Start(name, epmdPort, distPort, erl: erl);
        var ready = node.WaitLine(l => l.StartsWith("READY ", StringComparison.Ordinal), timeout);
        if (ready is null || ready.Value.Line != $"READY {node.FullName}")
        {
            string describe = node.Describe();
            node.Dispose();
            throw new InvalidOperationException($"node {name} ({erl ?? Erl}) did not start against port {epmdPort}: {describe}");
        }
        return node;
    }

    /// <summary>Sends one command line on stdin.</summary>
    public void Command(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Waits for the first stdout line at or after index from that matches; null on timeout or exit.</summary>
    public (string Line, int Index)? WaitLine(Func<string, bool> match, TimeSpan timeout, int from = 0)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            lock (_stdout)
            {
                for (int i = from; i < _stdout.Count; i++)
                    if (match(_stdout[i])) return (_stdout[i], i);
            }
            if (sw.Elapsed > timeout) return null;
            if (_process.HasExited)
            {
                _process.WaitForExit(); // drain the async readers, then look once more
                lock (_stdout)
                {
                    for (int i = from; i < _stdout.Count; i++)
                        if (match(_stdout[i])) return (_stdout[i], i);
                }
                return null;
            }
            Thread.Sleep(20);
        }
    }

    public int LineCount { get { lock (_stdout) return _stdout.Count; } }

    /// <summary>Lines from index on, up to and including the first one equal to end; null on timeout.</summary>
    public List<string>? ReadUntil(string end, TimeSpan timeout, int from)
    {
        var hit = WaitLine(l => l == end, timeout, from);
        if (hit is null) return null;
        lock (_stdout) return _stdout.GetRange(from, hit.Value.Index - from + 1);
    }

    public int? WaitExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit((int)timeout.TotalMilliseconds)) return null;
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public string Describe() => $"{FullName} pid {(_process.HasExited ? "exited" : Pid.ToString(System.Globalization.CultureInfo.InvariantCulture))}\n  stdout: {Stdout}\n  stderr: {Stderr}";

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                // The Process we started (erl execs erlexec, which execs beam.smp: one PID) and
                // its children (erl_child_setup), by PID.
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        try { Directory.Delete(_workDir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static string ReadShortHost()
    {
        var psi = new ProcessStartInfo("hostname")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-s");
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot run hostname -s");
        string output = p.StandardOutput.ReadToEnd().Trim();
        if (!p.WaitForExit(5000) || p.ExitCode != 0 || output.Length == 0)
            throw new InvalidOperationException($"hostname -s failed: {output}");
        return output;
    }
}
