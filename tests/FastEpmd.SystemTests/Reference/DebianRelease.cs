// The Debian releases FastEpmd is a drop-in for, each a reference for its tests: Debian 12
// "bookworm" (OTP 25.2.3, this host's /usr/bin/epmd and erl) and Debian 13 "trixie" (OTP 27.3.4.1,
// whose /usr/bin/epmd and erl run unchanged from the debootstrap root ./build.sh test caches under
// out/nspawn/trixie, through in-root.sh). Each release also has a booted machine (NspawnMachine)
// made from its root under out/nspawn/CODENAME.
namespace FastEpmd.SystemTests.Reference;

public sealed class DebianRelease
{
    public static readonly DebianRelease Debian12 = new("Debian 12", "bookworm", "25.2.3", host: true);
    public static readonly DebianRelease Debian13 = new("Debian 13", "trixie", "27.3.4.1", host: false);

    public static IEnumerable<DebianRelease> All => new[] { Debian12, Debian13 };

    private readonly bool _host;

    private DebianRelease(string name, string codename, string otp, bool host)
    {
        Name = name;
        Codename = codename;
        Otp = otp;
        _host = host;
    }

    /// <summary>"Debian 12": also the NUnit fixture argument.</summary>
    public string Name { get; }

    public string Codename { get; }

    /// <summary>The OTP version of the release's erlang-base.</summary>
    public string Otp { get; }

    public static DebianRelease Named(string name) =>
        All.SingleOrDefault(r => r.Name == name || r.Codename == name) ?? throw new ArgumentException("no Debian release " + name);

    /// <summary>The release's debootstrap root, cached by ./build.sh test (nspawn_root).</summary>
    public string Root => Path.Combine(Binaries.RepoRoot, "out", "nspawn", Codename);

    /// <summary>Why the release's binaries cannot run here ("" when they can): a missing root is a failure, never a skip.</summary>
    public string Missing =>
        _host || File.Exists(Path.Combine(Root, "usr", "bin", "epmd")) ? "" : $"no {Name} root at {Root}: ./build.sh test makes it (nspawn_root {Codename})";

    /// <summary>The release's /usr/bin/epmd, as an executable path (OTP_EPMD_BIN overrides Debian 12's).</summary>
    public string Epmd => _host ? Binaries.Otp : Wrapper("epmd");

    /// <summary>The release's /usr/bin/erl.</summary>
    public string Erl => _host ? ErlNode.Erl : Wrapper("erl");

    /// <summary>A command of the release's root: PROGRAM itself on the host release, else in-root.sh ROOT PROGRAM.</summary>
    public (string File, string[] Args) Command(string program, params string[] args) =>
        _host ? (program, args) : (InRoot, new[] { Root, program }.Concat(args).ToArray());

    public override string ToString() => Name;

    public static string InRoot => Path.Combine(Binaries.RepoRoot, "tests", "FastEpmd.SystemTests", "Reference", "in-root.sh");

    private static readonly object s_lock = new();

    /// <summary>out/reference/CODENAME/PROGRAM: a script that runs /usr/bin/PROGRAM of the root (its PID is the program's).</summary>
    private string Wrapper(string program)
    {
        if (Missing.Length > 0) throw new InvalidOperationException(Missing);
        string dir = Path.Combine(Binaries.RepoRoot, "out", "reference", Codename);
        string path = Path.Combine(dir, program);
        string text = $"#!/bin/sh\nexec '{InRoot}' '{Root}' /usr/bin/{program} \"$@\"\n";
        lock (s_lock)
        {
            if (!File.Exists(path) || File.ReadAllText(path) != text)
            {
                Directory.CreateDirectory(dir);
                File.WriteAllText(path + ".tmp", text);
                File.SetUnixFileMode(path + ".tmp", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
                File.Move(path + ".tmp", path, overwrite: true);
            }
        }
        return path;
    }
}
