// The daemon process: listeners (or systemd's), the table, signals into the loop, and exit codes
// as OTP's epmd gives them.
using System.Runtime.InteropServices;
using System.Text;
using FastEpmd.CommandLine;
using FastEpmd.Diagnostics;
using FastEpmd.Endpoints.Control;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.Endpoints.Metrics;
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Poller;
using FastEpmd.Registry;
using FastEpmd.Restart;
using FastEpmd.Service;

namespace FastEpmd.Daemon;

internal static class DaemonHost
{
    public static int Run(EpmdOptions options, string[] args)
    {
        if (options.Upgrade && (options.Systemd || (options.RunAsDaemon && !Detach.IsDetachedChild)) && !UpgradeTakeover.CanStart(options)) return 1;
        if (options.RunAsDaemon && !Detach.IsDetachedChild) return Detach.StartChildAndWait(args);
        int code = Serve(options);
        if (options.Systemd) SystemdActivation.Notify(RestartStatus.FinalStatus(code));
        return code;
    }

    private static int Serve(EpmdOptions options)
    {
        var log = new Log(options.DebugLevel) { Json = options.JsonLog };
        if (options.RunAsDaemon)
        {
            ChangeToRoot();
            OpenSyslog();
            log.ToSyslog = true;
        }
        try
        {
            Shim.CheckAbi();
        }
        catch (Exception e) when (e is InvalidOperationException or DllNotFoundException or EntryPointNotFoundException)
        {
            Fatal(log, "native shim: " + e.Message);
            return 1;
        }

        if (options.Upgrade) return UpgradeTakeover.Serve(options, log);

        int exitCode = 1;
        InheritedDescriptors? inherited = null;
        List<string>? names = null;
        var listeners = options.Systemd ? SystemdListeners(log, out inherited, out names) : OpenListeners(options, log, out exitCode);
        if (listeners is null)
        {
            Detach.SignalReady();
            return exitCode;   // 1, or 0 when the port was taken (OTP)
        }
        var metrics = MetricsListener.Take(options, listeners, names, out string? metricsError);
        if (metricsError != null)
        {
            foreach (var (fd, _) in listeners) SocketIo.Close(fd);
            Fatal(log, metricsError);
            Detach.SignalReady();
            return 1;
        }

        int capacity = TableSize(options);
        try
        {
            return ServeListeners(options, log, listeners, metrics, capacity, inherited?.Stored);
        }
        catch (OutOfMemoryException)
        {
            // Only start-up gets here: the loop sheds what an allocation failure hits. Under `ulimit -v`
            // or a memory cgroup the table or a runtime thread may not fit; say so, as any bad start.
            foreach (var (fd, _) in listeners) SocketIo.Close(fd);
            if (metrics is { } open) SocketIo.Close(open.Fd);
            Fatal(log, $"cannot start: not enough memory for a table of {capacity} connections (ulimit -v? -max_connections)");
            Detach.SignalReady();
            return 1;
        }
        catch (ErrnoException e)
        {
            // A start-up descriptor the kernel refuses (epoll_create1, eventfd): one line and exit 1, never an abort.
            foreach (var (fd, _) in listeners) SocketIo.Close(fd);
            if (metrics is { } open) SocketIo.Close(open.Fd);
            Fatal(log, "cannot start: " + e.Message);
            Detach.SignalReady();
            return 1;
        }
    }

    /// <summary>The connection table's size: -max_connections, else what RLIMIT_NOFILE (raised to its hard limit) allows.</summary>
    public static int TableSize(EpmdOptions options)
    {
        long softLimit = DescriptorLimit.RaiseToHard();
        return options.MaxConnections ?? DescriptorLimit.TableSizeFor(softLimit);
    }

    /// <summary>
    /// Serves until stopped. What a previous process left is taken back first: under systemd the
    /// store's descriptors (stored), or a handoff's image and ALIVE sockets (handoff). Everything is
    /// wired through constructors: the restart state first, then the service and the endpoints.
    /// </summary>
    public static int ServeListeners(EpmdOptions options, Log log, List<(int Fd, string Description)> listeners,
        (int Fd, string Description)? metrics, int capacity, List<(string Name, int Fd)>? stored = null,
        InheritedRegistrations? handoff = null, int controlFd = -1)
    {
        var registry = new NodeRegistry(64, options.DebugLevel > 0 ? NodeRegistry.DebugRememberLimit : NodeRegistry.DefaultRememberLimit);
        using var restart = options.Systemd ? StoredRegistrations.Open(options, log, capacity, registry.RememberLimit, stored) : null;
        var service = new EpmdService(options, registry, log, maxRegistrations: capacity, mirror: restart?.Mirror);
        // One table: the epmd connections, then room for the metrics endpoint's and the control socket's.
        using var table = new ConnectionTable(capacity + (metrics is null ? 0 : MetricsEndpoint.DefaultCapacity) + 1);
        using var poller = PollerFactory.Create(PollerFactory.ForThisPlatform);
        using var loop = new EventLoop(poller, table, log)
        {
            AfterWait = options.DelayAcceptSeconds > 0 ? () => Thread.Sleep(options.DelayAcceptSeconds * 1000) : null,
        };
        using var epmd = new EpmdEndpoint(loop, service, options, log, quota: capacity, store: restart?.Store,
            keepRegistrationsAtStop: restart?.Store != null);
        using var metricsEndpoint = metrics is null ? null
            : new MetricsEndpoint(loop, epmd, log, MetricsListener.Version(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                acceptBatch: options.AcceptBatch);
        using var control = new ControlEndpoint(loop, log, served: epmd);
        IRestartable[] endpoints = metricsEndpoint is null ? [epmd, control] : [epmd, metricsEndpoint, control];
        foreach (var (fd, _) in listeners) epmd.AddListener(fd);
        if (metrics is { } m) metricsEndpoint!.AddListener(m.Fd);
        restart?.Adopt(service, epmd, log);
        handoff?.Apply(service, epmd, store: null, log, removeStray: null);
        // Under -systemd the service manager restarts and keeps descriptors; -upgrade is for the rest.
        if (controlFd < 0 && !options.Systemd) controlFd = UpgradeControl.OpenListener(options, log);
        if (controlFd >= 0 && !control.AddListener(controlFd))
        {
            SocketIo.Close(controlFd);
            controlFd = -1;
        }
        if (controlFd >= 0) control.ExportForHandoff = hello => UpgradeControl.Export(service, endpoints, hello);
        string? continuity = restart?.Summary
            ?? (handoff == null ? null : $"{handoff.Adopted} registrations adopted, {handoff.Dropped} dropped");

        // Signal handlers only poke the loop's eventfd; the loop does the work.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; loop.RequestStop(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; loop.RequestStop(); });
        using var hangup = options.RunAsDaemon
            ? PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx => ctx.Cancel = true)
            : null;

        if (log.On(1)) log.Write(1, "epmd running - daemon = " + (options.RunAsDaemon ? 1 : 0));
        if (!options.RunAsDaemon)
        {
            var served = new StringBuilder();
            foreach (var (_, description) in listeners) served.Append(served.Length > 0 ? ", " : "").Append(description);
            if (metrics is { } shown) served.Append(", metrics on ").Append(shown.Description);
            if (continuity != null) served.Append("; ").Append(continuity);
            // A JSON log keeps stderr one object per line, the banner included.
            if (log.Json) log.Write(0, $"fastepmd: serving {served} (table {capacity} connections)");
            else StandardError.Write($"fastepmd: serving {served} (table {capacity} connections)\n");
        }
        if (options.Systemd)
            SystemdActivation.Notify($"READY=1\nSTATUS=Processing port mapping requests...\nMAINPID={Environment.ProcessId}");
        Detach.SignalReady();

        while (!loop.StopRequested)
        {
            try
            {
                loop.RunOnce();
                if (control.HandedOff)
                {
                    LetGo(endpoints, loop);
                    return 0;
                }
            }
            catch (OutOfMemoryException)
            {
                // The connections that needed memory shed themselves; this is a wait or log line that could not.
                StandardError.Write("fastepmd: out of memory in the event loop; serving on\n");
            }
            catch (Exception e)
            {
                // Anything else is a broken invariant: a loop must not run half-alive.
                Environment.FailFast("fastepmd: event loop failed", e);
            }
        }
        if (control.Committed)
        {
            // Stopped after Commit: the new process owns everything; serving or deregistering would undo that.
            LetGo(endpoints, loop);
            return 0;
        }
        // SIGTERM must exit within 100 ms: replies in flight get 90 ms to finish.
        bool kept = epmd.KeepRegistrationsAtStop;
        loop.Shutdown(budgetMs: 90);
        if (controlFd >= 0) UpgradeControl.RemoveSocketFile(options);
        return RestartStatus.AfterStop(options, kept, loop.ExitCode);
    }

    /// <summary>After a handover: every endpoint lets go of what the new process holds (no deregistration), nothing is served again.</summary>
    private static void LetGo(IRestartable[] endpoints, EventLoop loop)
    {
        foreach (var endpoint in endpoints) endpoint.LetGo();
        loop.Shutdown(budgetMs: 0);
    }

    private static List<(int Fd, string Description)>? SystemdListeners(Log log, out InheritedDescriptors? inherited, out List<string>? names)
    {
        names = null;
        inherited = SystemdActivation.ListenFds(out var error);
        if (inherited == null)
        {
            Fatal(log, error!);
            return null;
        }
        var listeners = new List<(int, string)>();
        names = new List<string>();
        foreach (var (fd, name) in inherited.Listeners)
        {
            listeners.Add((fd, $"systemd fd {fd} (port {Listener.LocalPort(fd)})"));
            names.Add(name);
        }
        return listeners;
    }

    private static List<(int Fd, string Description)>? OpenListeners(EpmdOptions options, Log log, out int exitCode)
    {
        exitCode = 1;
        var plan = ListenAddresses.Plan(options, out var error);
        if (error != null)
        {
            Fatal(log, error);
            return null;
        }
        var opened = new List<(int, string)>();
        foreach (var address in plan)
        {
            int fd = Listener.Open(address, options.BindPort, options.DeferAcceptSeconds);
            string where = address.IsIPv6 ? $"[{address}]:{options.BindPort}" : $"{address}:{options.BindPort}";
            if (fd >= 0)
            {
                opened.Add((fd, where));
                continue;
            }
            int errno = -fd;
            if (errno == Errno.EAFNOSUPPORT || errno == Errno.EPROTONOSUPPORT) continue;   // no such family here
            if (errno == Errno.EADDRINUSE)
            {
                // OTP exits 0 here (erl starts "epmd -daemon" unconditionally); we also say why.
                foreach (var (open, _) in opened) SocketIo.Close(open);
                if (log.On(1)) log.Write(1, $"there is already a epmd running at port {options.BindPort} on ipaddr {address}");
                WriteError(options, $"fastepmd: address {where} is already in use (another epmd running?)");
                exitCode = 0;
                return null;
            }
            if (address.Implicit)
            {
                // Best effort: hosts without IPv6 or without a loopback address must still work.
                if (log.On(0)) log.Write(0, $"failed to bind on ipaddr {address}: {Errno.Describe(errno)}");
                continue;
            }
            foreach (var (open, _) in opened) SocketIo.Close(open);
            Fatal(log, $"failed to bind on ipaddr {address}: {Errno.Describe(errno)}");
            return null;
        }
        if (opened.Count == 0)
        {
            Fatal(log, "unable to bind any address");
            return null;
        }
        return opened;
    }

    /// <summary>Start-up errors in OTP's words and format (a level-0 log line), before exit 1.</summary>
    private static void Fatal(Log log, string message) => log.Write(0, message);

    private static void WriteError(EpmdOptions options, string message)
    {
        if (!options.RunAsDaemon) StandardError.Write(message + "\n");
    }

    private static unsafe void OpenSyslog()
    {
        fixed (byte* ident = "epmd\0"u8) Shim.SyslogOpen(ident);
    }

    /// <summary>OTP's daemon mode runs from "/" (no mount kept busy); chdir(2), not System.IO.</summary>
    private static unsafe void ChangeToRoot()
    {
        fixed (byte* root = "/\0"u8) Tmds.Linux.LibC.chdir(root);
    }
}
