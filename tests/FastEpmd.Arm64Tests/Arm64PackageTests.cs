// The arm64 Debian package (ARCH=arm64 ./build.sh deb; ./build.sh test makes both, lintian-checked):
// the same files as the amd64 package, an arm64 binary that serves under qemu, and a dependency on
// libc6 as a native arm64 build would have (not the cross toolchain's libc6:arm64).
namespace FastEpmd.Arm64Tests;

[TestFixture]
public class Arm64PackageTests
{
    private static string Deb(string arch)
    {
        var dir = Path.Combine(Binaries.RepoRoot, "out", "deb");
        var deb = Directory.Exists(dir) ? Directory.GetFiles(dir, $"fastepmd_*_{arch}.deb").SingleOrDefault() : null;
        Assert.That(deb, Is.Not.Null, $"no {arch} package in {dir}: ./build.sh test builds both");
        return deb!;
    }

    private static string DpkgDeb(params string[] args)
    {
        var r = CliRun.Run("dpkg-deb", args, timeout: TimeSpan.FromSeconds(60));
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        return r.StdoutText;
    }

    private static string[] Paths(string deb) =>
        DpkgDeb("-c", deb).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[5]).Order().ToArray();

    [Test]
    public void The_arm64_package_has_the_amd64_packages_files_and_depends_on_libc6()
    {
        string arm = Deb("arm64"), amd = Deb("amd64");
        Assert.That(DpkgDeb("-f", arm, "Package", "Architecture").Trim(), Is.EqualTo("Package: fastepmd\nArchitecture: arm64"));
        Assert.That(DpkgDeb("-f", arm, "Depends").Trim(), Does.Match(@"^libc6 \(>= 2\.\d+\)$"));
        Assert.That(Paths(arm), Is.EqualTo(Paths(amd)));
    }

    [Test]
    public void The_arm64_packages_binary_serves_under_qemu()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"fe-arm-deb-{Environment.ProcessId}");
        try
        {
            DpkgDeb("-x", Deb("arm64"), dir);
            string binary = Path.Combine(dir, "usr/sbin/fastepmd");
            Assert.That(Arm64Emulation.ElfMachine(binary), Is.EqualTo(Arm64Emulation.EmAarch64));
            int p = Ports.Free();
            using var daemon = DaemonProcess.Start(Arm64Emulation.Qemu, new[] { "-L", Arm64Emulation.Sysroot, binary, "-port", p.ToString() }, null, port: p);
            using var node = daemon.Connect().Send(Requests.Alive("debnode", port: 31001));
            Assert.That(node.ReadExactly(2), Is.EqualTo(new byte[] { 0x76, 0 }));
            var port = daemon.Request(Requests.PortPlease("debnode")).Data;
            Assert.That(port[..4], Is.EqualTo(new byte[] { 0x77, 0, 31001 >> 8, 31001 & 0xff }));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
