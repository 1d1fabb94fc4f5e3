// The listen queue of a daemon's IPv4 listener on a port, read the way `ss -ltn` reads it: a
// sock_diag (NETLINK_SOCK_DIAG) dump of the listening TCP sockets, whose rqueue is the accept
// queue's length and wqueue the backlog the daemon asked listen() for (capped by somaxconn).
// A sampler thread reads it every millisecond during a burst and keeps the peak.
using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Load.Harness;

internal sealed unsafe class ListenQueue : IDisposable
{
    private const int AfNetlink = 16;
    private const int NetlinkSockDiag = 4;
    private const ushort SockDiagByFamily = 20;
    private const ushort NlmFRequest = 1;
    private const ushort NlmFDump = 0x300;
    private const int NlmsgError = 2;
    private const int NlmsgDone = 3;
    private const int TcpListen = 10;
    private const int BufferSize = 1 << 16;

    private readonly int _fd;
    private readonly int _port;
    private readonly byte* _buffer;
    private Thread? _sampler;
    private volatile bool _sampling;
    private uint _seq;

    public ListenQueue(int port)
    {
        _port = port;
        _fd = socket(AfNetlink, SOCK_DGRAM | SOCK_CLOEXEC, NetlinkSockDiag);
        if (_fd < 0) throw new InvalidOperationException("sock_diag socket failed, errno " + Native.Errno);
        _buffer = (byte*)NativeMemory.Alloc(BufferSize);
    }

    public int Peak { get; private set; }
    public int Samples { get; private set; }

    /// <summary>One reading: (queued connections, backlog), or (-1, -1) when no IPv4 listener is on the port.</summary>
    public (int Queued, int Backlog) Read()
    {
        // nlmsghdr (16) + inet_diag_req_v2 (56): AF_INET, IPPROTO_TCP, states = LISTEN, any socket id.
        byte* request = stackalloc byte[72];
        new Span<byte>(request, 72).Clear();
        *(uint*)request = 72;
        *(ushort*)(request + 4) = SockDiagByFamily;
        *(ushort*)(request + 6) = NlmFRequest | NlmFDump;
        *(uint*)(request + 8) = ++_seq;
        request[16] = (byte)AF_INET;
        request[17] = (byte)IPPROTO_TCP;
        *(uint*)(request + 20) = 1u << TcpListen;
        byte* address = stackalloc byte[12];
        new Span<byte>(address, 12).Clear();
        *(ushort*)address = AfNetlink;
        if (sendto(_fd, request, 72, 0, (sockaddr*)address, 12) != 72) return (-1, -1);
        var result = (-1, -1);
        while (true)
        {
            long n = recv(_fd, _buffer, BufferSize, 0);
            if (n <= 0) return result;
            for (long at = 0; at + 16 <= n;)
            {
                uint length = *(uint*)(_buffer + at);
                ushort type = *(ushort*)(_buffer + at + 4);
                if (type == NlmsgDone || type == NlmsgError || length < 16) return result;
                // inet_diag_msg: family, state, timer, retrans, then the socket id (sport big-endian first).
                byte* msg = _buffer + at + 16;
                int sport = msg[4] << 8 | msg[5];
                if (sport == _port) result = ((int)*(uint*)(msg + 56), (int)*(uint*)(msg + 60));
                at += (length + 3) & ~3u;
            }
        }
    }

    public void StartSampling()
    {
        Peak = 0;
        Samples = 0;
        _sampling = true;
        _sampler = new Thread(() =>
        {
            while (_sampling)
            {
                var (queued, _) = Read();
                Samples++;
                if (queued > Peak) Peak = queued;
                Thread.Sleep(1);
            }
        }) { IsBackground = true, Name = "listen-queue" };
        _sampler.Start();
    }

    public void StopSampling()
    {
        _sampling = false;
        _sampler?.Join();
        _sampler = null;
    }

    public void Dispose()
    {
        StopSampling();
        close(_fd);
        NativeMemory.Free(_buffer);
    }
}

/// <summary>System-wide TCP counters from /proc/net/netstat (what nstat prints): taken around a burst.</summary>
internal static class NetCounters
{
    public static readonly string[] Names = { "ListenOverflows", "ListenDrops", "TCPSynRetrans", "TCPReqQFullDrop" };

    public static Dictionary<string, long> Read()
    {
        var values = new Dictionary<string, long>();
        var lines = File.ReadAllLines("/proc/net/netstat");
        for (int i = 0; i + 1 < lines.Length; i += 2)
        {
            if (!lines[i].StartsWith("TcpExt:", StringComparison.Ordinal)) continue;
            var names = lines[i].Split(' ');
            var numbers = lines[i + 1].Split(' ');
            for (int k = 1; k < names.Length && k < numbers.Length; k++)
            {
                if (Names.Contains(names[k])) values[names[k]] = long.Parse(numbers[k]);
            }
        }
        return values;
    }

    public static Dictionary<string, long> Delta(Dictionary<string, long> after, Dictionary<string, long> before) =>
        Names.ToDictionary(n => n, n => after.GetValueOrDefault(n) - before.GetValueOrDefault(n));
}
