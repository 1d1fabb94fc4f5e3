// Every process a test starts gets a clean epmd environment: a stray ERL_EPMD_PORT or LISTEN_FDS
// in the runner's environment must not change what a daemon or client does.
using System.Diagnostics;

namespace FastEpmd.Testing;

public static class EpmdEnvironment
{
    private static readonly string[] s_scrubbed =
    {
        "ERL_EPMD_PORT", "ERL_EPMD_ADDRESS", "ERL_EPMD_RELAXED_COMMAND_CHECK", "ERL_EPMD_ALLOW", "LISTEN_FDS", "LISTEN_PID", "NOTIFY_SOCKET",
        "LISTEN_FDNAMES", "FDSTORE",
    };

    /// <summary>Clears the epmd and systemd variables, then applies env (a null value leaves one unset).</summary>
    public static void Apply(ProcessStartInfo psi, IDictionary<string, string?>? env = null)
    {
        foreach (var name in s_scrubbed) psi.Environment.Remove(name);
        if (env == null) return;
        foreach (var (k, v) in env)
        {
            if (v is null) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        }
    }
}
