// The linux-arm64 build under qemu user-mode emulation: `ARCH=arm64 ./build.sh publish` leaves
// out/arm64/fastepmd, and ./build.sh test the wrapper out/arm64/fastepmd-qemu that runs it through
// qemu-aarch64-static with the cross glibc (the second system-test run's FASTEPMD_BIN).
namespace FastEpmd.Arm64Tests;

internal static class Arm64Emulation
{
    public const string Qemu = "/usr/bin/qemu-aarch64-static";
    public const string Sysroot = "/usr/aarch64-linux-gnu";

    public static string Binary => Path.Combine(Binaries.RepoRoot, "out", "arm64", "fastepmd");
    public static string Wrapper => Path.Combine(Binaries.RepoRoot, "out", "arm64", "fastepmd-qemu");

    /// <summary>Fails (never skips) when the arm64 build or qemu is missing.</summary>
    public static void RequireBuild()
    {
        Assert.That(File.Exists(Qemu), Is.True, $"{Qemu} is missing: ./build.sh test installs qemu-user-static");
        Assert.That(File.Exists(Binary), Is.True, $"{Binary} is not built: run ARCH=arm64 ./build.sh publish");
        Assert.That(File.Exists(Wrapper), Is.True, $"{Wrapper} is missing: ./build.sh test writes it");
    }

    /// <summary>The ELF machine of a file (e_machine: 62 x86-64, 183 AArch64).</summary>
    public static int ElfMachine(string path)
    {
        var header = new byte[20];
        using (var f = File.OpenRead(path)) f.ReadExactly(header);
        Assert.That(header[..4], Is.EqualTo(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' }), path);
        return header[18] | header[19] << 8;
    }

    public const int EmAarch64 = 183;
    public const int EmX86_64 = 62;
}
