// One generator process of the burst: on "GO ..." from the harness it opens its share of
// PORT_PLEASE2 connections as fast as it can (socket, bind a 127.x source, connect, send, add to
// epoll; replies harvested every few opens), reads every reply to EOF checking its bytes, and
// reports "DONE ..." and "LAT ..." lines. Several of these hold a burst's sockets (a process may
// have 20,000 descriptors here). It exits when its stdin closes or after a hard time cap.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Load.Harness;

/// <summary>How the queries of a burst ended: replied (right or wrong bytes) or the kind of error.</summary>
internal record struct BurstOutcomes(long Ok, long BadBytes, long ConnectFailed, long Reset, long ClosedWithoutReply, long TimedOut)
{
    public readonly long Errors => ConnectFailed + Reset + ClosedWithoutReply + TimedOut;

    public static BurstOutcomes operator +(BurstOutcomes a, BurstOutcomes b) => new(a.Ok + b.Ok, a.BadBytes + b.BadBytes,
        a.ConnectFailed + b.ConnectFailed, a.Reset + b.Reset, a.ClosedWithoutReply + b.ClosedWithoutReply, a.TimedOut + b.TimedOut);

    public static BurstOutcomes Sum(IEnumerable<BurstOutcomes> all) => all.Aggregate(default(BurstOutcomes), (a, b) => a + b);

    public override readonly string ToString() =>
        $"ok {Ok} bad {BadBytes} err {Errors} (connect {ConnectFailed}, reset {Reset}, no reply {ClosedWithoutReply}, timeout {TimedOut})";
}

/// <summary>What one generator process saw in one burst; times are CLOCK_MONOTONIC ns (shared by every process).</summary>
internal sealed class BurstShare
{
    public long FirstStartNs;
    public long LastReplyNs;
    public BurstOutcomes Outcomes;
    public long[] LatencyNs = Array.Empty<long>();

    public string ToLines()
    {
        var o = Outcomes;
        return string.Create(CultureInfo.InvariantCulture, $"DONE {FirstStartNs} {LastReplyNs} {o.Ok} {o.BadBytes} {o.ConnectFailed} {o.Reset} {o.ClosedWithoutReply} {o.TimedOut}\n") +
            "LAT " + string.Join(' ', LatencyNs) + "\n";
    }

    public static BurstShare Parse(string done, string lat)
    {
        var d = done.Split(' ');
        if (d.Length != 9 || d[0] != "DONE" || !lat.StartsWith("LAT", StringComparison.Ordinal))
            throw new InvalidOperationException("burst child said: " + done);
        long L(int i) => long.Parse(d[i], CultureInfo.InvariantCulture);
        return new BurstShare
        {
            FirstStartNs = L(1), LastReplyNs = L(2), Outcomes = new BurstOutcomes(L(3), L(4), L(5), L(6), L(7), L(8)),
            LatencyNs = lat.Length <= 4 ? Array.Empty<long>() : lat[4..].Split(' ').Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray(),
        };
    }
}

internal static unsafe class BurstChild
{
    public const int MaxPerChild = 5000;
    private const int LifetimeSeconds = 900;
    private const int HarvestEvery = 8;
    private const byte Writing = 1;
    private const byte Reading = 2;

    /// <summary>--burst-child INDEX; then lines "GO port prefix registered firstName count deadlineMs sourceByte".</summary>
    public static int ChildMain(string[] args)
    {
        int index = int.Parse(args[1], CultureInfo.InvariantCulture);
        using var cap = new Timer(_ => Environment.Exit(3), null, LifetimeSeconds * 1000, Timeout.Infinite);
        string? line;
        while ((line = Console.In.ReadLine()) != null)
        {
            var p = line.Split(' ');
            if (p.Length != 8 || p[0] != "GO") return 2;
            int I(int i) => int.Parse(p[i], CultureInfo.InvariantCulture);
            var share = Run(I(1), p[2], I(3), I(4), I(5), I(6), index, I(7));
            Console.Out.Write(share.ToLines());
            Console.Out.Flush();
        }
        return 0;
    }

    private struct Op
    {
        public int Fd;
        public byte State;
        public bool Bad;
        public int Got;
        public int Name;
        public long StartNs;
    }

    private static long NowNs() => (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));

    public static BurstShare Run(int port, string prefix, int registered, int firstName, int count, int deadlineMs, int child, int sourceByte)
    {
        count = Math.Clamp(count, 0, MaxPerChild);
        var requests = new byte[registered][];
        var replies = new byte[registered][];
        for (int i = 0; i < registered; i++)
        {
            string name = HeldNodes.NameOf(prefix, i);
            requests[i] = Requests.PortPlease(name);
            replies[i] = Requests.PortFound(name, HeldNodes.PortOf(i));
        }
        var ops = new Op[count];
        var latencies = new long[count];
        int recorded = 0;
        var share = new BurstShare();
        int ep = epoll_create1(EPOLL_CLOEXEC);
        const int MaxEvents = 1024;
        var events = (epoll_event*)NativeMemory.Alloc(MaxEvents, (nuint)sizeof(epoll_event));
        byte* buffer = stackalloc byte[256];
        int open = 0;
        var destination = Native.Loopback(port);
        // Source 127.(50+child).(sourceByte).(1 + k/1000): connect() picks a port knowing the whole
        // 4-tuple (IP_BIND_ADDRESS_NO_PORT), and no address carries more than 1,000 at once.
        sockaddr_in source = default;
        source.sin_family = (ushort)AF_INET;
        source.sin_addr.s_addr[0] = 127;
        source.sin_addr.s_addr[1] = (byte)(50 + child);
        source.sin_addr.s_addr[2] = (byte)(1 + sourceByte % 250);

        void Close(ref Op op)
        {
            close(op.Fd);
            op.Fd = -1;
            op.State = 0;
            open--;
        }

        void Harvest(int timeoutMs)
        {
            int n = epoll_wait(ep, events, MaxEvents, timeoutMs);
            long now = NowNs();
            for (int e = 0; e < n; e++)
            {
                int k = (int)events[e].data.u64;
                ref var op = ref ops[k];
                if (op.State == 0) continue;
                uint flags = (uint)events[e].events;
                if (op.State == Writing)
                {
                    if ((flags & (uint)EPOLLOUT) == 0)
                    {
                        share.Outcomes.ConnectFailed++;
                        Close(ref op);
                        continue;
                    }
                    var request = requests[op.Name];
                    long sent;
                    fixed (byte* r = request) sent = Native.Send(op.Fd, r, request.Length);
                    if (sent != request.Length)
                    {
                        share.Outcomes.Reset++;
                        Close(ref op);
                        continue;
                    }
                    op.State = Reading;
                    epoll_event mod = default;
                    mod.events = EPOLLIN;
                    mod.data.u64 = (ulong)k;
                    epoll_ctl(ep, EPOLL_CTL_MOD, op.Fd, &mod);
                    continue;
                }
                var want = replies[op.Name];
                while (true)
                {
                    long got = Native.Receive(op.Fd, buffer, 256);
                    if (got > 0)
                    {
                        var chunk = new ReadOnlySpan<byte>(buffer, (int)got);
                        if (op.Got + got > want.Length || !chunk.SequenceEqual(want.AsSpan(op.Got, (int)got))) op.Bad = true;
                        op.Got += (int)got;
                        continue;
                    }
                    if (got == 0)
                    {
                        if (op.Got == 0) share.Outcomes.ClosedWithoutReply++;
                        else if (op.Bad || op.Got != want.Length) share.Outcomes.BadBytes++;
                        else
                        {
                            share.Outcomes.Ok++;
                            latencies[recorded++] = now - op.StartNs;
                            share.LastReplyNs = Math.Max(share.LastReplyNs, now);
                        }
                        Close(ref op);
                        break;
                    }
                    int errno = Native.Errno;
                    if (errno == Native.EINTR) continue;
                    if (Native.WouldBlock(errno)) break;
                    share.Outcomes.Reset++;
                    Close(ref op);
                    break;
                }
            }
        }

        long start = NowNs();
        share.FirstStartNs = start;
        for (int k = 0; k < count; k++)
        {
            ref var op = ref ops[k];
            op.Name = (firstName + k) % registered;
            op.StartNs = NowNs();
            source.sin_addr.s_addr[3] = (byte)(1 + k / 1000);
            int fd = Native.StartConnectFrom(&destination, &source);
            if (fd < 0)
            {
                share.Outcomes.ConnectFailed++;
                continue;
            }
            op.Fd = fd;
            open++;
            var request = requests[op.Name];
            long sent;
            fixed (byte* r = request) sent = Native.Send(fd, r, request.Length);
            // Loopback has finished the handshake inside connect() unless the listen queue was full.
            op.State = sent == request.Length ? Reading : Writing;
            epoll_event ev = default;
            ev.events = op.State == Reading ? EPOLLIN : EPOLLOUT;
            ev.data.u64 = (ulong)k;
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            if (k % HarvestEvery == HarvestEvery - 1) Harvest(0);
        }
        long deadline = start + deadlineMs * 1_000_000L;
        while (open > 0 && NowNs() < deadline) Harvest(10);
        for (int k = 0; k < count; k++)
        {
            if (ops[k].State == 0) continue;
            share.Outcomes.TimedOut++;
            Close(ref ops[k]);
        }
        close(ep);
        NativeMemory.Free(events);
        Array.Resize(ref latencies, recorded);
        share.LatencyNs = latencies;
        return share;
    }
}

/// <summary>The harness's side: a pool of BurstChild processes, started once, told to GO together.</summary>
internal sealed class BurstGenerators : IDisposable
{
    private readonly List<Process> _children = new();

    public BurstGenerators(int count)
    {
        for (int i = 0; i < count; i++)
        {
            var psi = HeldNodes.SelfStartInfo();
            psi.ArgumentList.Add("--burst-child");
            psi.ArgumentList.Add(i.ToString(CultureInfo.InvariantCulture));
            psi.RedirectStandardInput = true;
            psi.RedirectStandardOutput = true;
            psi.UseShellExecute = false;
            // Fully optimised code from the first connection: no tier-0 code in the first burst.
            psi.Environment["DOTNET_TieredCompilation"] = "0";
            var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start burst child");
            Children.Track(p);
            _children.Add(p);
        }
    }

    public int Count => _children.Count;

    /// <summary>
    /// Splits n over as few children as the per-process cap allows (spread: over all of them, for a
    /// warm-up), starts them together, collects the shares.
    /// </summary>
    public List<BurstShare> Run(int port, string prefix, int registered, int n, int deadlineMs, int sourceByte, bool spread = false)
    {
        int used = spread ? _children.Count : Math.Min(_children.Count, (n + BurstChild.MaxPerChild - 1) / BurstChild.MaxPerChild);
        var go = new StringBuilder();
        for (int i = 0; i < used; i++)
        {
            int count = n / used + (i < n % used ? 1 : 0);
            _children[i].StandardInput.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"GO {port} {prefix} {registered} {i * 337 % registered} {count} {deadlineMs} {sourceByte}"));
        }
        for (int i = 0; i < used; i++) _children[i].StandardInput.Flush();
        var shares = new List<BurstShare>();
        for (int i = 0; i < used; i++)
        {
            var done = ReadLine(_children[i], deadlineMs + 10_000);
            var lat = ReadLine(_children[i], 10_000);
            shares.Add(BurstShare.Parse(done ?? "(nothing)", lat ?? ""));
        }
        return shares;
    }

    private static string? ReadLine(Process p, int timeoutMs)
    {
        var task = p.StandardOutput.ReadLineAsync();
        return task.Wait(timeoutMs) ? task.Result : null;
    }

    public void Dispose()
    {
        foreach (var p in _children)
        {
            try
            {
                p.StandardInput.Close();
            }
            catch (IOException)
            {
            }
            if (!p.WaitForExit(3000)) Children.Stop(p, 100);
            Children.Forget(p);
        }
        _children.Clear();
    }
}
