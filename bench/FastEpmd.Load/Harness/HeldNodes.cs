// Many registrations held at once. One process may have at most 20,000 descriptors here, so the
// sockets are spread over child processes of the harness (this same program, --hold-child). A
// child exits when its stdin closes (the harness ended or died) or after a hard time cap.
using System.Diagnostics;

namespace FastEpmd.Load.Harness;

internal sealed class HeldNodes : IDisposable
{
    public const int PerChild = 5000;
    private const int ChildLifetimeSeconds = 240;
    private static int s_sources;
    private readonly List<Process> _children = new();

    public int Registered { get; private set; }
    public int Failed { get; private set; }
    public int Requested { get; private set; }
    public double Seconds { get; private set; }

    public static string NameOf(string prefix, int i) => prefix + i.ToString("D5");

    public static ushort PortOf(int i) => (ushort)(1024 + i % 60000);

    /// <summary>Registers count nodes named prefix00000.. on the daemon, PerChild per child process.</summary>
    public static HeldNodes Start(int daemonPort, string prefix, int count, int stopAfterFailures = 50)
    {
        var held = new HeldNodes { Requested = count };
        int child = 0;
        var clock = Stopwatch.StartNew();
        for (int start = 0; start < count; start += PerChild)
        {
            int n = Math.Min(PerChild, count - start);
            var psi = SelfStartInfo();
            foreach (var a in new[] { "--hold-child", daemonPort.ToString(), prefix, start.ToString(), n.ToString(), stopAfterFailures.ToString(), $"127.0.{1 + Interlocked.Increment(ref s_sources) % 200}.{1 + child++}" })
                psi.ArgumentList.Add(a);
            psi.RedirectStandardInput = true;
            psi.RedirectStandardOutput = true;
            psi.UseShellExecute = false;
            var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start hold child");
            Children.Track(p);
            held._children.Add(p);
        }
        foreach (var p in held._children)
        {
            var line = ReadLineWithin(p, TimeSpan.FromSeconds(60));
            var parts = line?.Split(' ');
            if (parts is not { Length: 3 } || parts[0] != "READY")
                throw new InvalidOperationException("hold child did not report: " + line);
            held.Registered += int.Parse(parts[1]);
            held.Failed += int.Parse(parts[2]);
        }
        held.Seconds = clock.Elapsed.TotalSeconds;
        return held;
    }

    private static string? ReadLineWithin(Process p, TimeSpan timeout)
    {
        var task = p.StandardOutput.ReadLineAsync();
        return task.Wait(timeout) ? task.Result : null;
    }

    /// <summary>This same program (the harness) as a child process: hold and burst children.</summary>
    public static ProcessStartInfo SelfStartInfo()
    {
        string path = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(path);
        if (Path.GetFileNameWithoutExtension(path) == "dotnet") psi.ArgumentList.Add(typeof(HeldNodes).Assembly.Location);
        return psi;
    }

    /// <summary>Closes every child's stdin; the children close their sockets (deregistering) and exit.</summary>
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
        }
        foreach (var p in _children)
        {
            if (!p.WaitForExit(3000)) Children.Stop(p, 100);
            Children.Forget(p);
        }
        _children.Clear();
    }

    /// <summary>The child side: register, report "READY ok failed", hold until stdin closes.</summary>
    public static int ChildMain(string[] args)
    {
        int daemonPort = int.Parse(args[1]);
        string prefix = args[2];
        int start = int.Parse(args[3]);
        int count = int.Parse(args[4]);
        int stopAfter = int.Parse(args[5]);
        var source = System.Net.IPAddress.Parse(args[6]);
        var nodes = Enumerable.Range(start, count).Select(i => (NameOf(prefix, i), PortOf(i)));
        using var held = Registrations.Register(daemonPort, nodes, stopAfter, TimeSpan.FromSeconds(50), source);
        Console.Out.WriteLine($"READY {held.Registered} {held.Failed}");
        Console.Out.Flush();
        var wait = Task.Run(() =>
        {
            while (Console.In.ReadLine() is not null)
            {
            }
        });
        wait.Wait(TimeSpan.FromSeconds(ChildLifetimeSeconds));
        return 0;
    }
}
