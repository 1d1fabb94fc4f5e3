// Shared steps of the end-to-end suite: start a daemon, send literal bytes, assert exact replies.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FastEpmd.SystemTests.EndToEnd;

internal static class E2e
{
    /// <summary>How long a reply that should come at once may take.</summary>
    public static readonly TimeSpan Quick = TimeSpan.FromSeconds(5);

    /// <summary>True when FASTEPMD_BIN points at OTP's epmd (a file named 'epmd'), the reference.</summary>
    public static bool TargetIsOtp
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("FASTEPMD_BIN");
            if (string.IsNullOrEmpty(env)) return false;
            var path = Path.GetFullPath(env);
            var final = File.Exists(path) ? File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path : path;
            return Path.GetFileName(path) == "epmd" || Path.GetFileName(final) == "epmd";
        }
    }

    /// <summary>FastEpmd-only tests: inconclusive when the target is OTP's epmd, which keeps the bug.</summary>
    public static void AssumeFastEpmd() =>
        Assume.That(TargetIsOtp, Is.False, "documented difference from OTP: OTP's epmd keeps the old behaviour");

    public static DaemonProcess Start(params string[] args) => DaemonProcess.StartFastEpmd(args);

    public static DaemonProcess StartWithEnv(IDictionary<string, string?> env, params string[] args) =>
        DaemonProcess.Start(Binaries.FastEpmd, args, env);

    public static bool HasIpv6Loopback()
    {
        try
        {
            using var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // ---- bytes ----

    public static string Norm(string hex) => Hex.Format(Hex.Parse(hex));

    public static void AssertHex(byte[] actual, string expectedHex, string? what = null) =>
        Assert.That(Hex.Format(actual), Is.EqualTo(Norm(expectedHex)), what);

    public static byte[] Repeat(byte[] unit, int count)
    {
        var r = new byte[unit.Length * count];
        for (int i = 0; i < count; i++) unit.CopyTo(r, i * unit.Length);
        return r;
    }

    /// <summary>count copies of one code point, UTF-8 encoded (name bytes as data; frames stay literal).</summary>
    public static byte[] Chars(int codePoint, int count) => Repeat(Hex.Utf8(char.ConvertFromUtf32(codePoint)), count);

    public static byte[] BigEndian32(uint v) => new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v };

    public static uint ReadU32(byte[] b, int offset) =>
        (uint)(b[offset] << 24 | b[offset + 1] << 16 | b[offset + 2] << 8 | b[offset + 3]);

    public static int ReadU16(byte[] b, int offset) => b[offset] << 8 | b[offset + 1];

    public static long NowSeconds() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>Replaces every "fd = N" by "fd = F", so DUMP text compares across daemons.</summary>
    public static string NormaliseFds(string dump) =>
        System.Text.RegularExpressions.Regex.Replace(dump, "fd = [0-9]+", "fd = F");

    // ---- exchanges ----

    /// <summary>Sends one frame and expects a reply of exactly replyLength bytes with the socket kept open.</summary>
    public static RawEpmdClient SendAlive(DaemonProcess d, byte[] frame, int replyLength, out byte[] reply, string host = "127.0.0.1")
    {
        var c = d.Connect(host);
        c.Send(frame);
        reply = c.ReadExactly(replyLength, Quick);
        return c;
    }

    /// <summary>ALIVE2 with hi=6 expecting `76 00 creation:4`; returns the open ALIVE socket and the creation.</summary>
    public static RawEpmdClient Register(DaemonProcess d, byte[] frame, out uint creation)
    {
        var c = SendAlive(d, frame, 6, out var reply);
        Assert.That(reply.Length == 6 && reply[0] == 0x76 && reply[1] == 0x00, Is.True,
            $"expected a successful ALIVE2_X_RESP, got [{Hex.Format(reply)}]");
        creation = ReadU32(reply, 2);
        return c;
    }

    /// <summary>Registers name (hi=6, lo=5, type M) at port and returns the ALIVE socket.</summary>
    public static RawEpmdClient Register(DaemonProcess d, string name, int port = 1000) =>
        Register(d, Requests.Alive(name, port), out _);

    /// <summary>ALIVE2 with hi=5 expecting `79 00 creation:2`.</summary>
    public static RawEpmdClient RegisterV5(DaemonProcess d, byte[] frame, out int creation)
    {
        var c = SendAlive(d, frame, 4, out var reply);
        Assert.That(reply.Length == 4 && reply[0] == 0x79 && reply[1] == 0x00, Is.True,
            $"expected a successful ALIVE2_RESP, got [{Hex.Format(reply)}]");
        creation = ReadU16(reply, 2);
        return c;
    }

    /// <summary>Sends one request and asserts the daemon closed the connection.</summary>
    public static byte[] Query(DaemonProcess d, byte[] request, TimeSpan? timeout = null, string host = "127.0.0.1")
    {
        using var c = d.Connect(host);
        c.Send(request);
        var r = c.ReadToEnd(timeout ?? Quick);
        Assert.That(r.Closed, Is.True, $"the daemon should close after replying; got [{r.HexData}] so far");
        return r.Data;
    }

    public static byte[] Query(DaemonProcess d, string hex, TimeSpan? timeout = null) => Query(d, Hex.Parse(hex), timeout);

    /// <summary>Asserts a silent close: no byte at all, then EOF (or RST) within the deadline.</summary>
    public static void AssertClosedSilently(RawEpmdClient c, TimeSpan? within = null)
    {
        var r = c.ReadToEnd(within ?? Quick);
        Assert.That(r.Data, Is.Empty, $"expected no reply, got [{r.HexData}]");
        Assert.That(r.Closed, Is.True, "expected the daemon to close the connection");
    }

    public static void AssertSilentClose(DaemonProcess d, byte[] request, TimeSpan? within = null)
    {
        using var c = d.Connect();
        c.Send(request);
        AssertClosedSilently(c, within);
    }

    public static void AssertSilentClose(DaemonProcess d, string hex, TimeSpan? within = null) =>
        AssertSilentClose(d, Hex.Parse(hex), within);

    /// <summary>NAMES: checks the 4-byte configured-port header and returns the text after it.</summary>
    public static string Names(DaemonProcess d, int? configuredPort = null, TimeSpan? timeout = null, string host = "127.0.0.1")
    {
        var data = Query(d, Hex.Parse("00 01 6e"), timeout, host);
        Assert.That(data.Length, Is.GreaterThanOrEqualTo(4), "NAMES reply shorter than its header");
        Assert.That(Hex.Format(data.AsSpan(0, 4)), Is.EqualTo(Hex.Format(BigEndian32((uint)(configuredPort ?? d.Port)))),
            "NAMES header must be the configured port");
        return Encoding.UTF8.GetString(data, 4, data.Length - 4);
    }

    /// <summary>PORT_PLEASE2 for name: the whole reply, after asserting the daemon closed.</summary>
    public static byte[] PortPlease(DaemonProcess d, byte[] name, TimeSpan? timeout = null) =>
        Query(d, Hex.Frame(Hex.Cat(new byte[] { 0x7a }, name)), timeout);

    public static bool IsRegistered(DaemonProcess d, string name, TimeSpan? timeout = null) =>
        PortPlease(d, Hex.Utf8(name), timeout) is [0x77, 0x00, ..];

    /// <summary>Polls until condition holds, failing after timeout.</summary>
    public static void Eventually(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var sw = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(5);
        while (!condition())
        {
            if (sw.Elapsed > limit) Assert.Fail($"not within {limit.TotalSeconds:0.#} s: {what}");
            Thread.Sleep(20);
        }
    }

    public static void WaitUnregistered(DaemonProcess d, string name, TimeSpan? timeout = null) =>
        Eventually(() => !IsRegistered(d, name), $"'{name}' unregistered", timeout);

    /// <summary>
    /// Waits until the daemon has read everything this client sent: the daemon-side socket of the
    /// connection shows an empty receive queue. Used before a late byte or an RST whose meaning
    /// depends on the daemon having taken the request in (a loaded host may be slow to read).
    /// Asks `ss` (iproute2, filtered in the kernel: fast even with 100k TIME_WAIT sockets), else
    /// reads /proc/net/tcp{,6}.
    /// </summary>
    public static void WaitUntilDaemonHasRead(DaemonProcess d, RawEpmdClient c, TimeSpan? timeout = null)
    {
        var local = (IPEndPoint)c.Socket.LocalEndPoint!;
        Eventually(() => DaemonSideReceiveQueue(d.Port, local) == 0, "the daemon reads the request",
            timeout ?? TimeSpan.FromSeconds(5));
    }

    private static bool? s_haveSs;

    /// <summary>Bytes waiting in the daemon-side socket of the connection to client, or null if not found.</summary>
    private static long? DaemonSideReceiveQueue(int daemonPort, IPEndPoint client)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        if (s_haveSs != false)
        {
            var psi = new ProcessStartInfo("ss")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { "-tnH", "state", "established", $"( sport = :{daemonPort} and dport = :{client.Port} )" })
                psi.ArgumentList.Add(a);
            try
            {
                using var p = Process.Start(psi)!;
                var output = p.StandardOutput.ReadToEndAsync();
                if (!p.WaitForExit(3000))
                {
                    p.Kill();
                    return null;
                }
                s_haveSs = true;
                foreach (var line in output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (f.Length >= 2 && long.TryParse(f[0], System.Globalization.NumberStyles.None, inv, out var recvQ)) return recvQ;
                }
                return null;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                s_haveSs = false;
            }
        }
        var file = client.AddressFamily == AddressFamily.InterNetworkV6 ? "/proc/net/tcp6" : "/proc/net/tcp";
        var daemonSide = ":" + daemonPort.ToString("X4", inv);
        var clientSide = ":" + client.Port.ToString("X4", inv);
        foreach (var line in File.ReadLines(file).Skip(1))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length > 4 && f[1].EndsWith(daemonSide, StringComparison.Ordinal) && f[2].EndsWith(clientSide, StringComparison.Ordinal))
                return Convert.ToInt64(f[4][(f[4].IndexOf(':', StringComparison.Ordinal) + 1)..], 16);
        }
        return null;
    }

    /// <summary>A client socket bound to another loopback source address (e.g. 127.0.0.2) talking to 127.0.0.1.</summary>
    public static Socket ConnectFrom(DaemonProcess d, string source)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            s.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
            s.Connect(new IPEndPoint(IPAddress.Loopback, d.Port));
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Reads until the peer closes or the deadline passes; a reset counts as closed.</summary>
    public static byte[] ReadUntilClosed(Socket s, TimeSpan timeout, out bool closed)
    {
        var sw = Stopwatch.StartNew();
        var data = new List<byte>();
        var buffer = new byte[65536];
        closed = false;
        while (sw.Elapsed < timeout)
        {
            var left = timeout - sw.Elapsed;
            if (!s.Poll((int)Math.Max(1, left.TotalMicroseconds), SelectMode.SelectRead)) continue;
            int n;
            try
            {
                n = s.Receive(buffer);
            }
            catch (SocketException)
            {
                closed = true;
                break;
            }
            if (n == 0)
            {
                closed = true;
                break;
            }
            data.AddRange(buffer.AsSpan(0, n).ToArray());
        }
        return data.ToArray();
    }

    /// <summary>Seconds until the daemon closes an idle client, or null if it stays open past limit.</summary>
    public static double? SecondsUntilClosed(RawEpmdClient c, TimeSpan limit)
    {
        var sw = Stopwatch.StartNew();
        var r = c.ReadToEnd(limit);
        if (!r.Closed) return null;
        Assert.That(r.Data, Is.Empty, $"expected no reply, got [{r.HexData}]");
        return sw.Elapsed.TotalSeconds;
    }
}
