// The multi-arch image (./build.sh image): out/image/fastepmd-oci.tar is an OCI image index of a
// linux/amd64 and a linux/arm64 image, each FROM scratch with the same numeric user, entry point
// and healthcheck, and the arm64 one runs under emulation. This kernel has no binfmt_misc mounted
// (/proc/sys/fs/binfmt_misc is empty), so podman cannot start an arm64 container here: the arm64
// image's own file system, unpacked from the archive, is run through qemu (-L: every path the
// program opens, its loader and libraries first, resolves inside that file system), as its user.
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace FastEpmd.Arm64Tests;

[TestFixture]
public class Arm64ImageTests
{
    private const string Image = "localhost/fastepmd:0.1.0";
    private static string Archive => Path.Combine(Binaries.RepoRoot, "out", "image", "fastepmd-oci.tar");
    private static string PodmanLocal => Path.Combine(Binaries.RepoRoot, "dist", "container", "podman-local");

    // The archive's blobs by digest, and its index.json.
    private static Dictionary<string, byte[]> s_blobs = new();
    private static JsonElement s_top;

    [OneTimeSetUp]
    public void ReadArchive()
    {
        Assert.That(File.Exists(Archive), Is.True, $"{Archive} is not built: ./build.sh image");
        using var reader = new TarReader(File.OpenRead(Archive));
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.DataStream is null) continue;
            using var ms = new MemoryStream();
            entry.DataStream.CopyTo(ms);
            var name = entry.Name.TrimStart('.', '/');
            if (name == "index.json") s_top = JsonDocument.Parse(ms.ToArray()).RootElement.Clone();
            else if (name.StartsWith("blobs/sha256/")) s_blobs["sha256:" + name["blobs/sha256/".Length..]] = ms.ToArray();
        }
    }

    private static JsonElement Blob(string digest) => JsonDocument.Parse(s_blobs[digest]).RootElement.Clone();

    // platform architecture -> (manifest, config) from the index the archive's index.json names.
    private static Dictionary<string, (JsonElement Manifest, JsonElement Config)> Images()
    {
        var top = s_top.GetProperty("manifests").EnumerateArray().Single();
        Assert.That(top.GetProperty("mediaType").GetString(), Is.EqualTo("application/vnd.oci.image.index.v1+json"));
        var index = Blob(top.GetProperty("digest").GetString()!);
        var images = new Dictionary<string, (JsonElement, JsonElement)>();
        foreach (var m in index.GetProperty("manifests").EnumerateArray())
        {
            Assert.That(m.GetProperty("platform").GetProperty("os").GetString(), Is.EqualTo("linux"));
            var manifest = Blob(m.GetProperty("digest").GetString()!);
            var config = Blob(manifest.GetProperty("config").GetProperty("digest").GetString()!);
            images[m.GetProperty("platform").GetProperty("architecture").GetString()!] = (manifest, config);
        }
        return images;
    }

    [Test]
    public void The_archive_is_an_index_of_an_amd64_and_an_arm64_image_with_the_same_user_and_command()
    {
        var images = Images();
        Assert.That(images.Keys.Order(), Is.EqualTo(new[] { "amd64", "arm64" }));
        foreach (var (arch, (_, config)) in images)
        {
            Assert.That(config.GetProperty("architecture").GetString(), Is.EqualTo(arch));
            var c = config.GetProperty("config");
            Assert.That(c.GetProperty("User").GetString(), Is.EqualTo("65532:65532"), arch);
            Assert.That(c.GetProperty("Entrypoint").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "/usr/local/bin/fastepmd" }), arch);
            Assert.That(c.GetProperty("Cmd").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "-max_connections", "4096" }), arch);
        }
    }

    [Test]
    public void Both_images_in_podman_have_the_same_user_and_healthcheck_and_their_own_architecture()
    {
        foreach (var arch in new[] { "amd64", "arm64" })
        {
            var r = CliRun.Run(PodmanLocal, new[] { "image", "inspect", "--format", "{{.Architecture}}|{{.Config.User}}|{{.HealthCheck.Test}}", $"{Image}-{arch}" },
                timeout: TimeSpan.FromSeconds(60));
            Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
            Assert.That(r.StdoutText.Trim(), Is.EqualTo($"{arch}|65532:65532|[CMD /usr/local/bin/fastepmd -names]"));
        }
    }

    [Test]
    public void The_arm64_image_serves_under_qemu_as_its_user_and_its_healthcheck_passes()
    {
        var (manifest, config) = Images()["arm64"];
        string rootfs = Path.Combine(Path.GetTempPath(), $"fe-arm-image-{Environment.ProcessId}");
        Directory.CreateDirectory(rootfs);
        try
        {
            foreach (var layer in manifest.GetProperty("layers").EnumerateArray())
            {
                var bytes = s_blobs[layer.GetProperty("digest").GetString()!];
                Stream s = new MemoryStream(bytes);
                if (bytes.Length > 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) s = new GZipStream(s, CompressionMode.Decompress);
                TarFile.ExtractToDirectory(s, rootfs, overwriteFiles: true);
            }
            string binary = Path.Combine(rootfs, "usr/local/bin/fastepmd");
            Assert.That(Arm64Emulation.ElfMachine(binary), Is.EqualTo(Arm64Emulation.EmAarch64));
            Assert.That(Arm64Emulation.ElfMachine(Path.Combine(rootfs, "lib/libc.so.6")), Is.EqualTo(Arm64Emulation.EmAarch64));
            Assert.That(File.GetUnixFileMode(rootfs).HasFlag(UnixFileMode.OtherExecute), Is.True);

            // The image's user, entry point and command, plus a port of our own.
            var c = config.GetProperty("config");
            var ids = c.GetProperty("User").GetString()!.Split(':');
            var command = c.GetProperty("Entrypoint").EnumerateArray().Concat(c.GetProperty("Cmd").EnumerateArray()).Select(e => e.GetString()!).ToList();
            string[] AsImageUser(IEnumerable<string> argv) =>
                new[] { "--reuid", ids[0], "--regid", ids[1], "--clear-groups", Arm64Emulation.Qemu, "-L", rootfs }
                    .Concat(argv.Select((a, i) => i == 0 ? Path.Combine(rootfs, a.TrimStart('/')) : a)).ToArray();
            int port = Ports.Free();
            using var daemon = DaemonProcess.Start("/usr/bin/setpriv", AsImageUser(command).Concat(new[] { "-port", port.ToString() }).ToArray(), null, port: port);
            for (int i = 0; i < 100 && !daemon.Stderr.Contains("(table 4096 connections)"); i++) Thread.Sleep(100);
            Assert.That(daemon.Stderr, Does.Contain("(table 4096 connections)"));
            // qemu maps the guest's libraries from the image, not from the host or the cross sysroot.
            var maps = File.ReadAllText($"/proc/{daemon.Pid}/maps");
            Assert.That(maps, Does.Contain(Path.Combine(rootfs, "lib/libc.so.6")));
            Assert.That(maps, Does.Not.Contain(Arm64Emulation.Sysroot));
            Assert.That(File.ReadAllLines($"/proc/{daemon.Pid}/status").Single(l => l.StartsWith("Uid:")), Does.Match($@"^Uid:\s+{ids[0]}\s"));

            using var node = daemon.Connect().Send(Requests.Alive("armnode", port: 31000));
            Assert.That(node.ReadExactly(2), Is.EqualTo(new byte[] { 0x76, 0 }));

            // The healthcheck as the image declares it (podman's copy; OCI configs carry none), on our port.
            var health = HealthCheck();
            var env = new Dictionary<string, string?> { ["ERL_EPMD_PORT"] = port.ToString() };
            var ok = CliRun.Run("/usr/bin/setpriv", AsImageUser(health), env, TimeSpan.FromSeconds(30));
            Assert.That(ok.ExitCode, Is.EqualTo(0), ok.ToString());
            Assert.That(ok.StdoutText, Does.StartWith($"epmd: up and running on port {port} with data:"));
            Assert.That(ok.StdoutText, Does.Match(@"name armnode at port 31000"));

            // Foreground, exits 0 on SIGTERM; the healthcheck then fails.
            daemon.Signal(Native.SIGTERM);
            Assert.That(daemon.WaitExit(TimeSpan.FromSeconds(20)), Is.EqualTo(0), daemon.Stderr);
            var down = CliRun.Run("/usr/bin/setpriv", AsImageUser(health), env, TimeSpan.FromSeconds(30));
            Assert.That(down.ExitCode, Is.Not.EqualTo(0), down.ToString());
        }
        finally
        {
            Directory.Delete(rootfs, recursive: true);
        }
    }

    private static string[] HealthCheck()
    {
        var r = CliRun.Run(PodmanLocal, new[] { "image", "inspect", "--format", "{{json .HealthCheck.Test}}", $"{Image}-arm64" }, timeout: TimeSpan.FromSeconds(60));
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        var test = JsonSerializer.Deserialize<string[]>(r.StdoutText)!;
        Assert.That(test[0], Is.EqualTo("CMD"));
        return test[1..];
    }
}
