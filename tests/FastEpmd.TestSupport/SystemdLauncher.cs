// systemd's exec step for socket activation, done by a small python3 program: create the listening
// socket, dup2 it to fd 3, set LISTEN_FDS=1 and LISTEN_PID to the pid that then execs the daemon.
namespace FastEpmd.Testing;

public static class SystemdLauncher
{
    /// <summary>IPv4 on 127.0.0.1, as a plain ListenStream=127.0.0.1:P.</summary>
    public const string Loopback4 = "loopback4";

    /// <summary>One dual-stack IPv6 socket on [::] (BindIPv6Only=default): IPv4 peers are ::ffff:a.b.c.d.</summary>
    public const string DualStack = "dualstack";

    /// <summary>python3 -c Script KIND PORT BINARY ARGS...</summary>
    public const string Script = """
import os, socket, sys
if sys.argv[1] == "dualstack":
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    address = ("::", int(sys.argv[2]))
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    address = ("127.0.0.1", int(sys.argv[2]))
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(address)
s.listen(4096)
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[3], sys.argv[3:])
""";

    /// <summary>The python3 arguments that start binary with args on a socket of the given kind.</summary>
    public static IEnumerable<string> Arguments(string kind, int port, string binary, IEnumerable<string> args) =>
        new[] { "-c", Script, kind, port.ToString(), binary }.Concat(args);
}
