// Two network namespaces joined by a veth pair (10.200.X.1/30 and .2/30, inside them only), made
// for one test and deleted by Dispose. Code runs "inside" one by a dedicated thread that setns()es
// into it: sockets belong to the namespace of the thread that creates them.
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FastEpmd.Testing;

public sealed class NetNamespace : IDisposable
{
    private const int CloneNewNet = 0x40000000;

    private NetNamespace(string server, string client, int subnet)
    {
        Server = server;
        Client = client;
        ServerAddress = $"10.200.{subnet}.1";
        ClientAddress = $"10.200.{subnet}.2";
    }

    /// <summary>The namespace the daemon runs in, and its address on the veth link.</summary>
    public string Server { get; }
    public string ServerAddress { get; }

    /// <summary>The namespace remote clients run in.</summary>
    public string Client { get; }
    public string ClientAddress { get; }

    public static bool IsRoot => geteuid() == 0;

    /// <param name="owner">A word in both namespaces' names, so suites running side by side never collide.</param>
    public static NetNamespace Create(string owner = "rb")
    {
        string tag = $"{Environment.ProcessId}-{Random.Shared.Next(100000)}";
        var ns = new NetNamespace($"fe-{owner}-{tag}-s", $"fe-{owner}-{tag}-c", Random.Shared.Next(256));
        try
        {
            Ip($"netns add {ns.Server}");
            Ip($"netns add {ns.Client}");
            Ip($"link add fe0 netns {ns.Server} type veth peer name fe1 netns {ns.Client}");
            Ip($"-n {ns.Server} addr add {ns.ServerAddress}/30 dev fe0");
            Ip($"-n {ns.Client} addr add {ns.ClientAddress}/30 dev fe1");
            foreach (var (name, link) in new[] { (ns.Server, "fe0"), (ns.Server, "lo"), (ns.Client, "fe1"), (ns.Client, "lo") })
                Ip($"-n {name} link set {link} up");
        }
        catch
        {
            ns.Dispose();
            throw;
        }
        return ns;
    }

    /// <summary>The veth ends: fe0 in Server, fe1 in Client.</summary>
    public const string ServerLink = "fe0", ClientLink = "fe1";

    /// <summary>Adds one more address (a.b.c.d/N or an IPv6 one, without duplicate detection) to a link.</summary>
    public void AddAddress(string ns, string link, string cidr) =>
        Ip($"-n {ns} addr add {cidr} dev {link}" + (cidr.Contains(':') ? " nodad" : ""));

    /// <summary>Runs func on a fresh thread that has joined namespace ns.</summary>
    public static T RunIn<T>(string ns, Func<T> func)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/run/netns/{ns}");
                if (setns((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                    throw new InvalidOperationException($"setns({ns}) failed: errno {Marshal.GetLastPInvokeError()}");
                result = func();
            }
            catch (Exception e)
            {
                error = e;
            }
        }) { IsBackground = true };
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(60))) throw new TimeoutException($"code in namespace {ns} did not finish in 60 s");
        if (error != null) throw new InvalidOperationException($"in namespace {ns}: {error.Message}", error);
        return result;
    }

    /// <summary>Starts binary inside the server namespace (ip netns exec execs it: the PID is the daemon's) and waits until it listens.</summary>
    public DaemonProcess StartDaemon(string binary, int port, params string[] args) => StartDaemonIn(Server, ServerAddress, binary, port, args);

    /// <summary>As StartDaemon, in the client namespace.</summary>
    public DaemonProcess StartClientDaemon(string binary, int port, params string[] args) => StartDaemonIn(Client, ClientAddress, binary, port, args);

    private static DaemonProcess StartDaemonIn(string ns, string address, string binary, int port, string[] args)
    {
        var argv = new List<string> { "netns", "exec", ns, binary, "-port", port.ToString() };
        argv.AddRange(args);
        var daemon = DaemonProcess.Start("ip", argv.ToArray(), null, port: port, waitForListen: false);
        var sw = Stopwatch.StartNew();
        while (!RunIn(ns, () => CanConnect(address, port)))
        {
            if (daemon.HasExited || sw.Elapsed > TimeSpan.FromSeconds(10))
            {
                string stderr = daemon.Stderr;
                daemon.Dispose();
                throw new InvalidOperationException($"{binary} did not listen in {ns} on {port}: {stderr}");
            }
            Thread.Sleep(20);
        }
        return daemon;
    }

    private static bool CanConnect(string host, int port)
    {
        using var s = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            s.Connect(System.Net.IPAddress.Parse(host), port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        // Deleting a namespace also deletes its end of the veth pair (and so the pair).
        foreach (var name in new[] { Server, Client })
        {
            try { Ip($"netns del {name}", quiet: true); }
            catch (InvalidOperationException) { }
        }
    }

    private static void Ip(string arguments, bool quiet = false)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in arguments.Split(' ')) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(10000)) p.Kill();
        if (p.ExitCode != 0 && !quiet) throw new InvalidOperationException($"ip {arguments}: exit {p.ExitCode}: {err.Trim()}");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setns(int fd, int nstype);

    [DllImport("libc")]
    private static extern uint geteuid();
}
