// The load generator: one thread, one epoll instance, non-blocking one-shot connections.
// Per operation: socket, connect (EINPROGRESS), send the request at once (loopback has finished
// the handshake by then), wait readable, read to EOF comparing every byte with the expected reply,
// close. Paced mode launches waves of `Concurrency` operations at the offered rate; closed mode
// keeps `Concurrency` operations in flight. Every loop is bounded by time and operation count.
using System.Diagnostics;
using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Load.Harness;

/// <summary>The reply an operation must get, byte for byte.</summary>
internal sealed class Expected(byte[] bytes, int exactPrefix, bool untilEof)
{
    public byte[] Bytes { get; } = bytes;

    /// <summary>Bytes [0, ExactPrefix) must match exactly; the rest is checked by Workload.CheckTail.</summary>
    public int ExactPrefix { get; } = exactPrefix;

    /// <summary>True: the server closes after the reply (one-shot). False: we close after Bytes.Length bytes.</summary>
    public bool UntilEof { get; } = untilEof;

    public static Expected ThenEof(byte[] bytes) => new(bytes, bytes.Length, true);
}

internal abstract class Workload
{
    public abstract int MaxRequestLength { get; }

    /// <summary>Writes the next operation's request frame; returns its length.</summary>
    public abstract int NextRequest(Span<byte> destination, out Expected expected);

    /// <summary>Checks reply bytes past Expected.ExactPrefix (for example an ALIVE2 creation).</summary>
    public virtual bool CheckTail(ReadOnlySpan<byte> tail) => tail.IsEmpty;
}

/// <summary>RatePerSecond 0: closed loop.</summary>
internal readonly record struct LoadPlan(double RatePerSecond, int Concurrency, TimeSpan Duration)
{
    public bool Paced => RatePerSecond > 0;
}

internal sealed class RoundResult
{
    public long Ok;
    public long Errors;
    public long BadBytes;
    public long Timeouts;

    /// <summary>Paced: operations that started later than their wave because Concurrency were still in flight.</summary>
    public long Late;

    public double Seconds;
    public long[] LatencyNs = Array.Empty<long>();
    public CpuSample ServerCpu;
    public CpuSample HarnessCpu;
    public double OkPerSecond => Seconds > 0 ? Ok / Seconds : 0;
}

internal sealed unsafe class LoadEngine : IDisposable
{
    public const int MaxConcurrency = 512;
    private const int OpTimeoutMs = 3000;
    private const int DrainMs = 3000;
    private const int ReceiveSize = 1 << 16;
    private const byte Writing = 1;
    private const byte Reading = 2;

    private struct Slot
    {
        public int Fd;
        public byte State;
        public bool Bad;
        public int RequestLength;
        public int Sent;
        public int Got;
        public long StartTicks;
    }

    private readonly int _ep;
    private readonly epoll_event* _events;
    private readonly Slot[] _slots = new Slot[MaxConcurrency];
    private readonly Expected?[] _expected = new Expected?[MaxConcurrency];
    private readonly byte[][] _tails = new byte[MaxConcurrency][];
    private readonly int[] _free = new int[MaxConcurrency];
    private readonly byte* _receive;
    private byte[] _requests = Array.Empty<byte>();
    private int _requestStride;
    private int _freeCount;
    private int _inFlight;

    public LoadEngine()
    {
        _ep = epoll_create1(EPOLL_CLOEXEC);
        if (_ep < 0) throw new InvalidOperationException("epoll_create1 failed, errno " + Native.Errno);
        _events = (epoll_event*)NativeMemory.AllocZeroed(MaxConcurrency, (nuint)sizeof(epoll_event));
        _receive = (byte*)NativeMemory.Alloc(ReceiveSize);
        for (int i = 0; i < MaxConcurrency; i++) _tails[i] = new byte[16];
    }

    /// <summary>Runs one bounded round against 127.0.0.1:port, sampling the server's CPU around it.</summary>
    public RoundResult Run(int port, int serverPid, Workload workload, LoadPlan plan, Action<string>? progress = null)
    {
        int concurrency = Math.Clamp(plan.Concurrency, 1, MaxConcurrency);
        if (_requestStride < workload.MaxRequestLength || _requests.Length < workload.MaxRequestLength * concurrency)
        {
            _requestStride = workload.MaxRequestLength;
            _requests = new byte[_requestStride * MaxConcurrency];
        }
        _freeCount = 0;
        for (int i = concurrency - 1; i >= 0; i--) _free[_freeCount++] = i;
        _inFlight = 0;

        var address = Native.Loopback(port);
        double seconds = plan.Duration.TotalSeconds;
        long maxOps = plan.Paced ? (long)(plan.RatePerSecond * seconds) + concurrency : (long)(400_000 * seconds) + concurrency;
        var latencies = new long[maxOps];
        var result = new RoundResult();
        long started = 0;
        long recorded = 0;
        long freq = Stopwatch.Frequency;
        double nsPerTick = 1e9 / freq;
        long waveTicks = plan.Paced ? (long)(freq * concurrency / plan.RatePerSecond) : 0;
        long opTimeoutTicks = freq * OpTimeoutMs / 1000;
        int selfPid = Environment.ProcessId;

        var serverBefore = ProcStats.Cpu(serverPid);
        var harnessBefore = ProcStats.Cpu(selfPid);
        long t0 = Stopwatch.GetTimestamp();
        long end = t0 + (long)(seconds * freq);
        long drainEnd = end + freq * DrainMs / 1000;
        long nextScan = t0 + freq / 10;
        long nextProgress = t0 + freq / 2;

        while (true)
        {
            long now = Stopwatch.GetTimestamp();
            bool issuing = now < end && started < maxOps;
            if (issuing)
            {
                long due = plan.Paced ? Math.Min(maxOps, ((now - t0) / waveTicks + 1) * concurrency) : maxOps;
                while (started < due && _inFlight < concurrency)
                {
                    // Paced: an operation starting over 1 ms after its wave was held back by the cap.
                    if (plan.Paced && now - (t0 + started / concurrency * waveTicks) > freq / 1000) result.Late++;
                    StartOne(ref address, workload, ref result, now);
                    started++;
                }
            }
            else if (_inFlight == 0 || now > drainEnd)
            {
                break;
            }

            int timeoutMs;
            if (!issuing) timeoutMs = 10;
            else if (!plan.Paced) timeoutMs = _inFlight > 0 ? 10 : 0;
            else
            {
                long nextWave = t0 + ((now - t0) / waveTicks + 1) * waveTicks;
                timeoutMs = (int)Math.Clamp((nextWave - now + freq / 1000 - 1) * 1000 / freq, 0, 50);
                // A wave due within the next millisecond: do not sleep through it.
                if (nextWave - now < freq / 1000) timeoutMs = 0;
            }
            int n = epoll_wait(_ep, _events, MaxConcurrency, timeoutMs);
            if (n < 0 && Native.Errno != Native.EINTR) throw new InvalidOperationException("epoll_wait errno " + Native.Errno);
            long eventTime = Stopwatch.GetTimestamp();
            for (int i = 0; i < n; i++)
            {
                int slot = (int)_events[i].data.u64;
                var outcome = OnEvent(slot, (uint)_events[i].events, workload);
                if (outcome == Outcome.Pending) continue;
                long latency = (long)((eventTime - _slots[slot].StartTicks) * nsPerTick);
                Finish(slot, outcome, ref result);
                if (outcome != Outcome.Error && recorded < latencies.Length) latencies[recorded++] = latency;
            }

            if (eventTime >= nextScan)
            {
                nextScan = eventTime + freq / 10;
                ExpireSlow(eventTime, opTimeoutTicks, ref result, concurrency);
            }
            if (progress != null && eventTime >= nextProgress)
            {
                nextProgress = eventTime + freq / 2;
                progress($"{result.Ok} ok, {result.Errors} errors, {result.BadBytes} bad, {_inFlight} in flight");
            }
        }
        // Past the drain deadline: whatever is still open counts as a timeout.
        for (int slot = 0; slot < concurrency; slot++)
        {
            if (_slots[slot].State != 0) Finish(slot, Outcome.Error, ref result, timeout: true);
        }
        long t1 = Stopwatch.GetTimestamp();
        result.ServerCpu = ProcStats.Cpu(serverPid) - serverBefore;
        result.HarnessCpu = ProcStats.Cpu(selfPid) - harnessBefore;
        // Throughput is counted over the issuing window plus the drain of the last operations.
        result.Seconds = (double)(t1 - t0) / freq;
        Array.Resize(ref latencies, (int)recorded);
        Array.Sort(latencies);
        result.LatencyNs = latencies;
        return result;
    }

    private enum Outcome
    {
        Pending,
        Ok,
        Bad,
        Error,
    }

    private void StartOne(ref sockaddr_in address, Workload workload, ref RoundResult result, long now)
    {
        int slot = _free[--_freeCount];
        ref var s = ref _slots[slot];
        var request = _requests.AsSpan(slot * _requestStride, _requestStride);
        s.RequestLength = workload.NextRequest(request, out var expected);
        _expected[slot] = expected;
        s.StartTicks = now;
        s.Sent = 0;
        s.Got = 0;
        s.Bad = false;
        int fd;
        fixed (sockaddr_in* a = &address) fd = Native.StartConnect(a);
        if (fd < 0)
        {
            result.Errors++;
            _free[_freeCount++] = slot;
            return;
        }
        s.Fd = fd;
        _inFlight++;
        int interest = TrySend(ref s, slot) switch
        {
            SendResult.Done => Native.EPOLL_IN,
            SendResult.Again => Native.EPOLL_OUT,
            _ => 0,
        };
        if (interest == 0)
        {
            s.State = Writing;
            Finish(slot, Outcome.Error, ref result);
            return;
        }
        s.State = interest == Native.EPOLL_IN ? Reading : Writing;
        Control(EPOLL_CTL_ADD, fd, slot, interest);
    }

    private enum SendResult
    {
        Done,
        Again,
        Failed,
    }

    private SendResult TrySend(ref Slot s, int slot)
    {
        fixed (byte* p = &_requests[slot * _requestStride])
        {
            while (s.Sent < s.RequestLength)
            {
                long n = Native.Send(s.Fd, p + s.Sent, s.RequestLength - s.Sent);
                if (n > 0)
                {
                    s.Sent += (int)n;
                    continue;
                }
                int e = Native.Errno;
                if (e == Native.EINTR) continue;
                if (Native.WouldBlock(e) || e == Native.ENOTCONN) return SendResult.Again;
                return SendResult.Failed;
            }
        }
        return SendResult.Done;
    }

    private void Control(int op, int fd, int slot, int interest)
    {
        epoll_event ev = default;
        ev.events = interest;
        ev.data.u64 = (ulong)slot;
        if (epoll_ctl(_ep, op, fd, &ev) != 0) throw new InvalidOperationException("epoll_ctl errno " + Native.Errno);
    }

    private Outcome OnEvent(int slot, uint events, Workload workload)
    {
        ref var s = ref _slots[slot];
        if (s.State == Writing)
        {
            if ((events & (uint)Native.EPOLL_OUT) == 0 && (events & (uint)(Native.EPOLL_ERR | Native.EPOLL_HUP)) != 0)
                return Outcome.Error;
            switch (TrySend(ref s, slot))
            {
                case SendResult.Again:
                    return Outcome.Pending;
                case SendResult.Failed:
                    return Outcome.Error;
            }
            s.State = Reading;
            Control(EPOLL_CTL_MOD, s.Fd, slot, Native.EPOLL_IN);
            return Outcome.Pending;
        }
        return Read(ref s, slot, workload);
    }

    private Outcome Read(ref Slot s, int slot, Workload workload)
    {
        var expected = _expected[slot]!;
        var want = expected.Bytes;
        while (true)
        {
            long n = Native.Receive(s.Fd, _receive, ReceiveSize);
            if (n > 0)
            {
                Compare(ref s, slot, expected, new ReadOnlySpan<byte>(_receive, (int)n));
                s.Got += (int)n;
                if (!expected.UntilEof && s.Got >= want.Length) return Verdict(ref s, slot, expected, workload);
                continue;
            }
            if (n == 0)
            {
                // EOF: the one-shot reply is complete (or the server closed without one).
                if (s.Got == 0) return Outcome.Error;
                return Verdict(ref s, slot, expected, workload);
            }
            int e = Native.Errno;
            if (e == Native.EINTR) continue;
            if (Native.WouldBlock(e)) return Outcome.Pending;
            return Outcome.Error;   // reset
        }
    }

    private void Compare(ref Slot s, int slot, Expected expected, ReadOnlySpan<byte> data)
    {
        var want = expected.Bytes;
        int at = s.Got;
        if (at + data.Length > want.Length) s.Bad = true;
        int exactEnd = Math.Min(expected.ExactPrefix, at + data.Length);
        if (at < exactEnd && !data[..(exactEnd - at)].SequenceEqual(want.AsSpan(at, exactEnd - at))) s.Bad = true;
        // Bytes past the exact prefix (a creation number) are kept for Workload.CheckTail.
        int tailStart = Math.Max(at, expected.ExactPrefix);
        int tailEnd = Math.Min(at + data.Length, want.Length);
        var tail = _tails[slot];
        for (int i = tailStart; i < tailEnd && i - expected.ExactPrefix < tail.Length; i++)
            tail[i - expected.ExactPrefix] = data[i - at];
    }

    private Outcome Verdict(ref Slot s, int slot, Expected expected, Workload workload)
    {
        if (s.Bad || s.Got != expected.Bytes.Length) return Outcome.Bad;
        int tailLength = expected.Bytes.Length - expected.ExactPrefix;
        return workload.CheckTail(_tails[slot].AsSpan(0, Math.Min(tailLength, 16))) ? Outcome.Ok : Outcome.Bad;
    }

    private void Finish(int slot, Outcome outcome, ref RoundResult result, bool timeout = false)
    {
        ref var s = ref _slots[slot];
        switch (outcome)
        {
            case Outcome.Ok:
                result.Ok++;
                break;
            case Outcome.Bad:
                result.BadBytes++;
                break;
            default:
                result.Errors++;
                if (timeout) result.Timeouts++;
                break;
        }
        Native.Close(s.Fd);   // also leaves the epoll set
        s.Fd = -1;
        s.State = 0;
        _expected[slot] = null;
        _inFlight--;
        _free[_freeCount++] = slot;
    }

    private void ExpireSlow(long now, long timeoutTicks, ref RoundResult result, int concurrency)
    {
        for (int slot = 0; slot < concurrency; slot++)
        {
            if (_slots[slot].State != 0 && now - _slots[slot].StartTicks > timeoutTicks)
                Finish(slot, Outcome.Error, ref result, timeout: true);
        }
    }

    public void Dispose()
    {
        close(_ep);
        NativeMemory.Free(_events);
        NativeMemory.Free(_receive);
    }
}
