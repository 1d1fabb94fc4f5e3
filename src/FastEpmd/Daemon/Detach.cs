// -daemon. A started .NET runtime cannot fork safely (only the forking thread survives, and the
// runtime's own threads and locks do not), so the parent re-executes this binary in a new session
// (posix_spawn + POSIX_SPAWN_SETSID, in native-shim) and waits on a pipe until the child listens
// or fails. Like OTP, the parent then exits 0: erl runs "epmd -daemon" unconditionally.
using System.Collections;
using System.Runtime.InteropServices;
using System.Text;
using FastEpmd.Interop;
using static Tmds.Linux.LibC;

namespace FastEpmd.Daemon;

internal static unsafe class Detach
{
    /// <summary>Set in the child's environment: the write end of the readiness pipe.</summary>
    public const string ReadyFdVariable = "FASTEPMD_READY_FD";

    public static bool IsDetachedChild => Environment.GetEnvironmentVariable(ReadyFdVariable) is not null;

    /// <summary>Starts the detached child and waits (bounded) for its readiness byte. Always 0, as OTP.</summary>
    public static int StartChildAndWait(string[] args)
    {
        int* pipeFds = stackalloc int[2];
        if (pipe2(pipeFds, O_CLOEXEC) != 0) return 0;
        int readFd = pipeFds[0], writeFd = pipeFds[1];

        var path = Environment.ProcessPath ?? "/proc/self/exe";
        var argv = new List<string> { path };
        argv.AddRange(args);
        var env = new List<string>();
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            if ((string)e.Key != ReadyFdVariable) env.Add($"{e.Key}={e.Value}");
        }
        env.Add($"{ReadyFdVariable}={writeFd}");

        var pArgv = ToCStrings(argv);
        var pEnv = ToCStrings(env);
        int pid = 0;
        int rc;
        try
        {
            fixed (byte* pPath = Encoding.UTF8.GetBytes(path + "\0"))
            fixed (IntPtr* a = pArgv)
            fixed (IntPtr* e = pEnv)
            {
                rc = Shim.SpawnDetached(pPath, (byte**)a, (byte**)e, writeFd, &pid);
            }
        }
        finally
        {
            Free(pArgv);
            Free(pEnv);
        }
        close(writeFd);
        if (rc == 0)
        {
            // Wait until the child says it listens (or failed), at most 10 s.
            Tmds.Linux.pollfd pfd = default;
            pfd.fd = readFd;
            pfd.events = (short)POLLIN;
            poll(&pfd, 1, 10_000);
        }
        close(readFd);
        return 0;
    }

    /// <summary>In the child: tell the waiting parent we are up (or gave up), then drop the pipe.</summary>
    public static void SignalReady()
    {
        var text = Environment.GetEnvironmentVariable(ReadyFdVariable);
        if (text is null || !int.TryParse(text, out int fd)) return;
        byte one = 1;
        write(fd, &one, 1);
        close(fd);
    }

    private static IntPtr[] ToCStrings(List<string> strings)
    {
        var pointers = new IntPtr[strings.Count + 1];   // NULL-terminated
        for (int i = 0; i < strings.Count; i++) pointers[i] = Marshal.StringToCoTaskMemUTF8(strings[i]);
        return pointers;
    }

    private static void Free(IntPtr[] pointers)
    {
        foreach (var p in pointers)
        {
            if (p != IntPtr.Zero) Marshal.FreeCoTaskMem(p);
        }
    }
}
