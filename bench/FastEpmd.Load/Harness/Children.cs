// Every process the harness starts (daemons, hold children) is tracked here by PID and killed by
// PID on exit, on Ctrl-C, on SIGTERM/SIGHUP and on an unhandled exception. Nothing else is touched.
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FastEpmd.Load.Harness;

internal static class Children
{
    private static readonly object s_lock = new();
    private static readonly List<Process> s_live = new();
    private static readonly List<PosixSignalRegistration> s_signals = new();

    public static void InstallHandlers()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => KillAll();
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
        {
            s_signals.Add(PosixSignalRegistration.Create(signal, ctx =>
            {
                Console.Error.WriteLine($"\nload: {ctx.Signal}: stopping the daemons and children this harness started");
                KillAll();
                ctx.Cancel = false;
            }));
        }
    }

    public static void Track(Process p)
    {
        lock (s_lock) s_live.Add(p);
    }

    public static void Forget(Process p)
    {
        lock (s_lock) s_live.Remove(p);
    }

    /// <summary>SIGTERM, a short grace, then SIGKILL; each by the PID this harness started.</summary>
    public static void Stop(Process p, int graceMs = 1000)
    {
        try
        {
            if (!p.HasExited)
            {
                Tmds.Linux.LibC.kill(p.Id, Tmds.Linux.LibC.SIGTERM);
                if (!p.WaitForExit(graceMs)) p.Kill();
                p.WaitForExit(2000);
            }
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
        Forget(p);
    }

    public static void KillAll()
    {
        Process[] all;
        lock (s_lock)
        {
            all = s_live.ToArray();
            s_live.Clear();
        }
        foreach (var p in all)
        {
            try
            {
                if (!p.HasExited) p.Kill();
            }
            catch (InvalidOperationException)
            {
            }
            catch (System.ComponentModel.Win32Exception)
            {
            }
        }
    }
}
