// A Prometheus stand-in: GET /metrics every interval on its own thread until disposed, counting
// complete 200 responses and failures. Bounded: at most 3,600 scrapes, each with a 1 s timeout.
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FastEpmd.Load.Harness;

internal sealed class Scraper : IDisposable
{
    private const int MaxScrapes = 3600;
    private static readonly byte[] s_request = Encoding.ASCII.GetBytes("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");

    private readonly int _port;
    private readonly TimeSpan _interval;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _stop = new();
    private int _scrapes;
    private int _failures;

    public Scraper(int port, TimeSpan interval)
    {
        _port = port;
        _interval = interval;
        _thread = new Thread(Loop) { IsBackground = true, Name = "scraper" };
        _thread.Start();
    }

    public int Scrapes => Volatile.Read(ref _scrapes);
    public int Failures => Volatile.Read(ref _failures);

    private void Loop()
    {
        var buffer = new byte[64 * 1024];
        for (int i = 0; i < MaxScrapes && !_stop.Wait(_interval); i++)
        {
            if (ScrapeOnce(buffer)) Interlocked.Increment(ref _scrapes);
            else Interlocked.Increment(ref _failures);
        }
    }

    private bool ScrapeOnce(byte[] buffer)
    {
        try
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 1000, SendTimeout = 1000 };
            s.Connect(new IPEndPoint(IPAddress.Loopback, _port));
            s.Send(s_request);
            int total = 0, n;
            while ((n = s.Receive(buffer, total, buffer.Length - total, SocketFlags.None)) > 0)
            {
                total += n;
                if (total == buffer.Length) return false;   // a scrape this large is not ours
            }
            var text = Encoding.ASCII.GetString(buffer, 0, total);
            return text.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) && text.Contains("fastepmd_registrations", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _stop.Set();
        _thread.Join(TimeSpan.FromSeconds(3));
    }
}
