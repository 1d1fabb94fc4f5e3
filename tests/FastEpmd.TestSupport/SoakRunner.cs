// The soak: churn, queries and faults together against one running daemon for a given time,
// every reply byte-checked. Long-lived registrations must all survive, the churned ones must all
// be gone, and the daemon's RSS and descriptor count must come back to their baseline. Used by
// the 60-second Robustness test and by `./build.sh soak MINUTES` (bench/FastEpmd.Soak).
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace FastEpmd.Testing;

public sealed record SoakOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(5);
    public int LongLived { get; init; } = 64;
    public int ChurnWorkers { get; init; } = 2;
    public int QueryWorkers { get; init; } = 2;
    public int FaultWorkers { get; init; } = 2;
    public int SlowReaders { get; init; } = 1;

    /// <summary>Pause between operations of one worker, to keep a soak a soak and not a benchmark.</summary>
    public TimeSpan Pace { get; init; } = TimeSpan.FromMilliseconds(1);

    public int Seed { get; init; } = 42;

    /// <summary>The daemon's -packet_timeout: half-open connections held longer are closed by it.</summary>
    public int PacketTimeoutSeconds { get; init; } = 2;

    public static string[] DaemonArguments(SoakOptions o) => new[] { "-packet_timeout", o.PacketTimeoutSeconds.ToString() };

    /// <summary>
    /// The daemon's environment: a 1 MiB gen0 budget (DOTNET_GCgen0size, hex), so its garbage is
    /// collected within seconds and RSS shows live memory. With the default budget (sized from the
    /// L3 cache: ~16 MB of garbage here before the first GC) RSS climbs for a minute and then stays
    /// flat, which looks like a leak in a one-minute soak. The garbage comes from level-0 log lines
    /// (refused duplicates, refused KILLs: ~800 bytes each).
    /// </summary>
    public static Dictionary<string, string?> DaemonEnvironment() => new() { ["DOTNET_GCgen0size"] = "100000" };

    public static DaemonProcess StartDaemon(string binary, SoakOptions o) =>
        DaemonProcess.Start(binary, DaemonArguments(o), DaemonEnvironment());
}

public sealed class SoakReport
{
    public long Registrations, Lookups, Names, Dumps, Faults, SlowReads, Operations;
    public long WrongReplies, LostRegistrations, LeftoverRegistrations;
    public long RssStart, RssBaseline, RssPeak, RssAfter;
    public int FdsBaseline, FdsAfter;
    public TimeSpan Elapsed;
    public readonly ConcurrentQueue<string> Problems = new();

    public void Problem(string text)
    {
        if (Problems.Count < 20) Problems.Enqueue(text);
    }

    public override string ToString() =>
        $"soak {Elapsed.TotalSeconds:F0} s: {Operations} operations ({Registrations} churn registrations, {Lookups} PORT_PLEASE2, {Names} NAMES, " +
        $"{Dumps} DUMP, {SlowReads} slow NAMES reads, {Faults} faults); wrong replies {WrongReplies}, lost registrations {LostRegistrations}, " +
        $"leftover churn registrations {LeftoverRegistrations}; RSS {ProcessStats.MB(RssStart)} at start, {ProcessStats.MB(RssBaseline)} baseline " +
        $"(after warm-up), {ProcessStats.MB(RssPeak)} peak, {ProcessStats.MB(RssAfter)} after; fds {FdsBaseline} baseline, {FdsAfter} after" +
        (Problems.IsEmpty ? "" : "\n  " + string.Join("\n  ", Problems));
}

public sealed class SoakRunner
{
    private static readonly Regex s_namesLine = new(@"^name .* at port \d+$", RegexOptions.CultureInvariant);

    private readonly DaemonProcess _daemon;
    private readonly SoakOptions _options;
    private readonly Action<string> _log;
    private readonly SoakReport _report = new();
    private readonly List<(string Name, int Port)> _longLived = new();
    private readonly List<Socket> _longLivedSockets = new();
    private readonly ConcurrentBag<Socket> _heldFaults = new();
    private volatile bool _stop;

    public SoakRunner(DaemonProcess daemon, SoakOptions options, Action<string>? log = null)
    {
        _daemon = daemon;
        _options = options;
        _log = log ?? (_ => { });
    }

    private int Port => _daemon.Port;

    public SoakReport Run()
    {
        var total = Stopwatch.StartNew();
        _report.RssStart = ProcessStats.RssBytes(_daemon.Pid);
        try
        {
            for (int i = 0; i < _options.LongLived; i++)
            {
                string name = $"soak-long-{i:D4}-".PadRight(120, 'l');
                _longLivedSockets.Add(RawEpmdClient.RegisterOk(Port, name, 20000 + i, out _));
                _longLived.Add((name, 20000 + i));
            }
            _log($"{_options.LongLived} long-lived registrations; warm-up {_options.WarmUp.TotalSeconds:F0} s");
            RunWorkers(_options.WarmUp, seedOffset: 1000);
            Quiesce();
            _report.RssBaseline = _report.RssPeak = ProcessStats.RssBytes(_daemon.Pid);
            _report.FdsBaseline = SettledFds();
            _log($"baseline: RSS {ProcessStats.MB(_report.RssBaseline)}, {_report.FdsBaseline} fds; soaking {_options.Duration.TotalSeconds:F0} s");

            var soak = Stopwatch.StartNew();
            RunWorkers(_options.Duration, seedOffset: 0);
            _report.Elapsed = soak.Elapsed;
            Quiesce();
            CheckLongLived();
            _report.FdsAfter = WaitForFds(_report.FdsBaseline, TimeSpan.FromSeconds(5));
            _report.RssAfter = ProcessStats.RssBytes(_daemon.Pid);
        }
        finally
        {
            _stop = true;
            foreach (var s in _heldFaults) s.Dispose();
            RawEpmdClient.DisposeAll(_longLivedSockets);
        }
        _log(_report.ToString() + $" (total {total.Elapsed.TotalSeconds:F0} s)");
        return _report;
    }

    private void RunWorkers(TimeSpan duration, int seedOffset)
    {
        _stop = false;
        var workers = new List<Thread>();
        int id = 0;
        void Start(Action<Random, int> body, int count)
        {
            for (int i = 0; i < count; i++)
            {
                int worker = id++;
                var random = new Random(_options.Seed + seedOffset + worker);
                workers.Add(new Thread(() => Guard(() => body(random, worker))) { IsBackground = true, Name = "soak-" + worker });
            }
        }
        Start(Churn, _options.ChurnWorkers);
        Start(Query, _options.QueryWorkers);
        Start(Fault, _options.FaultWorkers);
        Start(SlowReader, _options.SlowReaders);
        workers.ForEach(w => w.Start());
        var sw = Stopwatch.StartNew();
        var nextReport = TimeSpan.FromSeconds(10);
        while (sw.Elapsed < duration && !_daemon.HasExited)
        {
            Thread.Sleep(200);
            long rss = SafeRss();
            _report.RssPeak = Math.Max(_report.RssPeak, rss);
            if (sw.Elapsed >= nextReport)
            {
                _log($"  {sw.Elapsed.TotalSeconds:F0} s: {Interlocked.Read(ref _report.Operations)} operations, RSS {ProcessStats.MB(rss)}, " +
                     $"{SafeFds()} fds, {Interlocked.Read(ref _report.WrongReplies)} wrong replies");
                nextReport += TimeSpan.FromSeconds(10);
            }
        }
        _stop = true;
        foreach (var w in workers)
        {
            if (!w.Join(TimeSpan.FromSeconds(30))) _report.Problem($"worker {w.Name} did not stop");
        }
        if (_daemon.HasExited) _report.Problem($"the daemon exited with {_daemon.Process.ExitCode}: {_daemon.Stderr}");
    }

    private int SafeFds()
    {
        try { return ProcessStats.OpenDescriptors(_daemon.Pid); }
        catch (IOException) { return 0; }
    }

    private long SafeRss()
    {
        try { return ProcessStats.RssBytes(_daemon.Pid); }
        catch (IOException) { return 0; }
    }

    private void Guard(Action body)
    {
        try
        {
            body();
        }
        catch (Exception e)
        {
            Wrong($"worker crashed: {e.GetType().Name}: {e.Message}");
        }
    }

    private void Wrong(string what)
    {
        Interlocked.Increment(ref _report.WrongReplies);
        _report.Problem(what);
    }

    private void Pace(Random random)
    {
        Interlocked.Increment(ref _report.Operations);
        if (_options.Pace > TimeSpan.Zero) Thread.Sleep(_options.Pace);
    }

    private Socket Connect(Random random) => RawEpmdClient.OpenSocket(Port, source: RawEpmdClient.FloodSource(random.Next(16)));

    /// <summary>Registers a fresh name, looks it up, closes (FIN or RST), and sometimes restarts it at once.</summary>
    private void Churn(Random random, int worker)
    {
        for (long n = 0; !_stop; n++)
        {
            string name = $"soak-churn-{worker}-{n}";
            int nodePort = 30000 + (int)(n % 30000);
            var s = Connect(random);
            s.Send(Requests.Alive(name, port: nodePort));
            var reply = RawEpmdClient.ReadExactly(s, 6);
            Interlocked.Increment(ref _report.Registrations);
            if (reply.Length != 6 || reply[0] != 0x76 || reply[1] != 0)
            {
                Wrong($"ALIVE2 {name}: {Hex.Format(reply)}");
                s.Dispose();
                continue;
            }
            uint creation = (uint)(reply[2] << 24 | reply[3] << 16 | reply[4] << 8 | reply[5]);
            ExpectReply(Requests.PortPlease(name), Replies.Port2Found(name, nodePort), "PORT_PLEASE2 of a churned name");
            bool restart = random.Next(4) == 0;
            if (random.Next(2) == 0) s.Dispose(); else RawEpmdClient.Reset(s);
            if (restart)
            {
                // OTP issue 11083: re-register at once, maybe before the daemon saw the close.
                using var again = Connect(random);
                again.Send(Requests.Alive(name, port: nodePort));
                var second = RawEpmdClient.ReadExactly(again, 6);
                uint next = creation + 1;
                if (Hex.Format(second) != "76 00 " + Hex.Format(new[] { (byte)(next >> 24), (byte)(next >> 16), (byte)(next >> 8), (byte)next }))
                    Wrong($"re-registering {name} after its close: {Hex.Format(second)}, expected creation {next}");
            }
            Pace(random);
        }
    }

    private void Query(Random random, int worker)
    {
        while (!_stop)
        {
            var (name, port) = _longLived[random.Next(_longLived.Count)];
            switch (random.Next(10))
            {
                case < 5:
                    Interlocked.Increment(ref _report.Lookups);
                    ExpectReply(Requests.PortPlease(name), Replies.Port2Found(name, port), "PORT_PLEASE2 of a long-lived name");
                    break;
                case < 7:
                    Interlocked.Increment(ref _report.Lookups);
                    ExpectReply(Requests.PortPlease($"soak-absent-{random.Next(1000)}"), Replies.Port2NotFound, "PORT_PLEASE2 of an absent name");
                    break;
                case < 9:
                    Interlocked.Increment(ref _report.Names);
                    CheckNames(RawEpmdClient.Query(Port, Requests.Names), "NAMES");
                    break;
                default:
                    Interlocked.Increment(ref _report.Dumps);
                    CheckDump(RawEpmdClient.Query(Port, Requests.Dump));
                    break;
            }
            Pace(random);
        }
    }

    private void Fault(Random random, int worker)
    {
        while (!_stop)
        {
            Interlocked.Increment(ref _report.Faults);
            switch (random.Next(8))
            {
                case 0:
                {
                    // RST in the middle of a request.
                    var s = Connect(random);
                    var frame = Requests.Alive($"soak-rst-{random.Next()}");
                    s.Send(frame, 0, 1 + random.Next(frame.Length - 1), SocketFlags.None);
                    RawEpmdClient.Reset(s);
                    break;
                }
                case 1:
                {
                    // A garbage frame with a tag OTP does not know: closed, no reply.
                    var payload = new byte[1 + random.Next(40)];
                    random.NextBytes(payload);
                    payload[0] = (byte)"aprcyvwZ\0"[random.Next(9)];
                    ExpectReply(Hex.Frame(payload), Array.Empty<byte>(), "garbage frame");
                    break;
                }
                case 2:
                    ExpectReply(Hex.Parse("00 01 6e 00"), Array.Empty<byte>(), "NAMES with a trailing byte");
                    break;
                case 3:
                    ExpectReply(Hex.Parse(random.Next(2) == 0 ? "00 00" : "ff ff"), Array.Empty<byte>(), "bad length");
                    break;
                case 4:
                    ExpectReply(Requests.Kill, Hex.Ascii("NO"), "KILL with live nodes");
                    break;
                case 5:
                {
                    // Half-open: a partial header, held for a while; some outlive the packet timeout.
                    var s = Connect(random);
                    s.Send(new byte[] { 0 });
                    _heldFaults.Add(s);
                    if (_heldFaults.Count > 40) ReleaseHalfOpen(random);
                    break;
                }
                case 6:
                {
                    // A duplicate of a long-lived name, reset before its refusal is read: OTP would then unregister the owner by name.
                    var (name, _) = _longLived[random.Next(_longLived.Count)];
                    var s = Connect(random);
                    s.Send(Requests.Alive(name, port: 1));
                    RawEpmdClient.Reset(s);
                    break;
                }
                default:
                {
                    // A byte on a registration socket ends the registration (OTP).
                    string name = $"soak-byte-{worker}-{random.Next()}";
                    using var s = Connect(random);
                    s.Send(Requests.Alive(name, port: 999));
                    var reply = RawEpmdClient.ReadExactly(s, 6);
                    if (reply.Length != 6 || reply[1] != 0)
                    {
                        Wrong($"ALIVE2 {name}: {Hex.Format(reply)}");
                        break;
                    }
                    s.Send(new byte[] { 0x6e });
                    var end = RawEpmdClient.ReadToEnd(s, 3000);
                    if (!end.Closed || end.Data.Length != 0) Wrong($"byte on an ALIVE socket: {end.HexData}, closed={end.Closed}");
                    else ExpectReply(Requests.PortPlease(name), Replies.Port2NotFound, "PORT_PLEASE2 after the ALIVE socket got a byte");
                    break;
                }
            }
            Pace(random);
        }
    }

    private void ReleaseHalfOpen(Random random)
    {
        while (_heldFaults.Count > 20 && _heldFaults.TryTake(out var s))
        {
            if (random.Next(2) == 0) s.Dispose(); else RawEpmdClient.Reset(s);
        }
    }

    /// <summary>Reads NAMES through a small receive buffer, 256 bytes every 10 ms; sometimes gives up half-way with an RST.</summary>
    private void SlowReader(Random random, int worker)
    {
        var buffer = new byte[256];
        while (!_stop)
        {
            using var s = RawEpmdClient.OpenSocket(Port, receiveBuffer: 2048);
            s.Send(Requests.Names);
            bool abandon = random.Next(4) == 0;
            var data = new MemoryStream();
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(20))
            {
                if (abandon && data.Length > 2048)
                {
                    RawEpmdClient.Reset(s);
                    break;
                }
                if (!s.Poll(TimeSpan.FromSeconds(5), SelectMode.SelectRead)) continue;
                int n = s.Receive(buffer);
                if (n == 0)
                {
                    Interlocked.Increment(ref _report.SlowReads);
                    CheckNames(new ReadResult(data.ToArray(), Closed: true, Reset: false), "slow NAMES");
                    break;
                }
                data.Write(buffer, 0, n);
                Thread.Sleep(10);
            }
            Pace(random);
        }
    }

    private void ExpectReply(byte[] request, byte[] expected, string what)
    {
        var r = RawEpmdClient.Query(Port, request);
        if (!r.Closed || !r.Data.AsSpan().SequenceEqual(expected))
            Wrong($"{what}: got {(r.Data.Length > 64 ? Hex.Format(r.Data.AsSpan(0, 64)) + "..." : r.HexData)} (closed={r.Closed}), expected {Hex.Format(expected)}");
    }

    /// <summary>NAMES: the header, well-formed lines, every long-lived node present with its port.</summary>
    private void CheckNames(ReadResult r, string what)
    {
        if (!r.Closed)
        {
            Wrong($"{what}: not closed");
            return;
        }
        string[] lines;
        try { lines = Replies.NamesLines(r.Data, Port); }
        catch (InvalidOperationException e)
        {
            Wrong($"{what}: {e.Message}");
            return;
        }
        if (!r.Data.AsSpan().EndsWith("\n"u8)) Wrong($"{what}: does not end with a newline");
        var set = new HashSet<string>(lines);
        foreach (var line in lines)
        {
            if (!s_namesLine.IsMatch(line)) Wrong($"{what}: malformed line \"{line}\"");
        }
        foreach (var (name, port) in _longLived)
        {
            if (!set.Contains($"name {name} at port {port}")) Wrong($"{what}: long-lived {name} missing");
        }
    }

    private void CheckDump(ReadResult r)
    {
        if (!r.Closed || r.Data.Length < 4 || (r.Data[0] << 24 | r.Data[1] << 16 | r.Data[2] << 8 | r.Data[3]) != Port)
        {
            Wrong($"DUMP: header or close: {r.Data.Length} bytes, closed={r.Closed}");
            return;
        }
        string text = Encoding.UTF8.GetString(r.Data, 4, r.Data.Length - 4);
        foreach (var (name, port) in _longLived)
        {
            if (!text.Contains($"active name     <{name}> at port {port}, fd = ", StringComparison.Ordinal)) Wrong($"DUMP: long-lived {name} missing");
        }
    }

    /// <summary>Stops the held faults and waits until only the long-lived names are registered.</summary>
    private void Quiesce()
    {
        while (_heldFaults.TryTake(out var s)) s.Dispose();
        var expected = Replies.NamesReply(Port, Enumerable.Reverse(_longLived));
        var sw = Stopwatch.StartNew();
        byte[] names = Array.Empty<byte>();
        while (sw.Elapsed < TimeSpan.FromSeconds(5))
        {
            names = RawEpmdClient.Query(Port, Requests.Names).Data;
            if (names.AsSpan().SequenceEqual(expected)) return;
            Thread.Sleep(50);
        }
        var extra = Replies.NamesLines(names, Port).Except(_longLived.Select(n => $"name {n.Name} at port {n.Port}")).ToArray();
        _report.LeftoverRegistrations += extra.Length;
        _report.Problem($"after quiescing, NAMES is not exactly the long-lived nodes; extra: {string.Join(", ", extra.Take(5))}");
    }

    private void CheckLongLived()
    {
        for (int i = 0; i < _longLived.Count; i++)
        {
            var (name, port) = _longLived[i];
            var r = RawEpmdClient.Query(Port, Requests.PortPlease(name));
            if (!r.Data.AsSpan().SequenceEqual(Replies.Port2Found(name, port)) || RawEpmdClient.ClosedByPeer(_longLivedSockets[i]))
            {
                _report.LostRegistrations++;
                _report.Problem($"long-lived {name} lost: {r.HexData}");
            }
        }
    }

    /// <summary>
    /// The daemon's descriptor count once it has not changed for 1.5 s (5 s at most): a silent
    /// fault connection reaches the daemon only when TCP_DEFER_ACCEPT lets it go (about 1 s), so
    /// a count taken at once can include one that is about to close.
    /// </summary>
    private int SettledFds()
    {
        var total = Stopwatch.StartNew();
        var unchanged = Stopwatch.StartNew();
        int last = ProcessStats.OpenDescriptors(_daemon.Pid);
        while (total.Elapsed < TimeSpan.FromSeconds(5) && unchanged.Elapsed < TimeSpan.FromSeconds(1.5))
        {
            Thread.Sleep(100);
            int now = ProcessStats.OpenDescriptors(_daemon.Pid);
            if (now != last)
            {
                last = now;
                unchanged.Restart();
            }
        }
        return last;
    }

    private int WaitForFds(int target, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        int fds;
        while ((fds = ProcessStats.OpenDescriptors(_daemon.Pid)) > target && sw.Elapsed < timeout) Thread.Sleep(50);
        return fds;
    }
}
