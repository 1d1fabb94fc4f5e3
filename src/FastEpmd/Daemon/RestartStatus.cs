// The exit status of a daemon under systemd that stopped on a signal with its registrations left in
// the descriptor store. The process cannot tell a `systemctl stop` from a stray SIGTERM (Debian's
// erlang-base prerm runs `kill $(pgrep epmd | head -1)`, which matches fastepmd), so it gives both
// the same answer and lets the unit decide: fastepmd.service lists this status in
// SuccessExitStatus= (a stop job ends clean, and systemd then empties the store itself, closing every
// node's socket) and in RestartForceExitStatus= (with no stop job, systemd starts a new process,
// which adopts every registration from the store).
using FastEpmd.Service;

namespace FastEpmd.Daemon;

internal static class RestartStatus
{
    /// <summary>EX_TEMPFAIL from sysexits.h: "try again", which is what the unit does with it.</summary>
    public const int RegistrationsKept = 75;

    /// <summary>The exit status after the loop stopped: RegistrationsKept when a signal stop left them in systemd's store.</summary>
    public static int AfterStop(EpmdOptions options, bool registrationsKept, int loopExitCode) =>
        options.Systemd && registrationsKept && loopExitCode == 0 ? RegistrationsKept : loopExitCode;

    /// <summary>The last sd_notify STATUS= line for an exit status.</summary>
    public static string FinalStatus(int code) => code == RegistrationsKept
        ? "STATUS=Stopped; registrations kept in the descriptor store."
        : $"STATUS=Exited.\nERRNO={code}";
}
