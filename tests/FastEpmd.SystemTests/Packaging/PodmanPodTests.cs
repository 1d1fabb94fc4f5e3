// The container image (./build.sh image) run as README "Operations" ships it: FastEpmd in a pod
// beside an Erlang node that starts with -start_epmd false. The pod has no network but its own
// loopback, so 4369 exists only inside it. podman runs through dist/container/podman-local (runc,
// ulimits, vfs storage under out/podman).
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace FastEpmd.SystemTests.Packaging;

[TestFixture]
// Alone, after the parallel fixtures: `podman stop` within 1 s is a promise about an idle host, and
// on two busy cores podman's own start-up (a Go binary opening its storage) takes most of that.
[NonParallelizable]
public class PodmanPodTests
{
    private const string Image = "localhost/fastepmd:0.1.0";
    private const string NodeImage = "localhost/fastepmd-test-erlang:latest";
    private static readonly string s_pod = "fe-test-" + Environment.ProcessId;
    private static readonly string s_epmd = s_pod + "-epmd";

    private static string PodmanLocal => Path.Combine(Binaries.RepoRoot, "dist", "container", "podman-local");

    private static void Figure(string text) => Figures.Report("image/podman", text);

    private static CliOutcome Podman(params string[] args) => CliRun.Run(PodmanLocal, args, timeout: TimeSpan.FromSeconds(60));

    private static string PodmanOk(params string[] args)
    {
        var r = Podman(args);
        if (r.ExitCode != 0) throw new AssertionException($"podman {string.Join(' ', args)}: {r}");
        return r.StdoutText.Trim();
    }

    [OneTimeSetUp]
    public void StartPod()
    {
        foreach (var image in new[] { Image, NodeImage })
            Assert.That(Podman("image", "exists", image).ExitCode, Is.EqualTo(0), $"{image} is not built: ./build.sh test builds it");
        Podman("pod", "rm", "-f", s_pod);
        PodmanOk("pod", "create", "--name", s_pod, "--network", "none");
        // The shipping recipe (README "Operations"), with the image's default -max_connections 4096.
        PodmanOk("run", "-d", "--pod", s_pod, "--name", s_epmd, "--read-only", "--cap-drop=ALL",
            "--security-opt", "no-new-privileges", Image);
        PodmanOk("run", "-d", "--pod", s_pod, "--name", s_pod + "-app", NodeImage,
            "-sname", "app", "-setcookie", "c", "-start_epmd", "false", "-noshell");
    }

    [OneTimeTearDown]
    public void RemovePod() => Podman("pod", "rm", "-f", "-t", "0", s_pod);

    [Test, Order(1)]
    public void TheImageIsSmallNumericAndHasAHealthcheck()
    {
        long size = long.Parse(PodmanOk("image", "inspect", "--format", "{{.Size}}", Image), CultureInfo.InvariantCulture);
        Figure($"image size {size} bytes ({size / 1048576.0:F2} MiB)");
        Assert.That(size, Is.LessThanOrEqualTo(5 * 1048576));
        Assert.That(PodmanOk("image", "inspect", "--format", "{{.Config.User}}", Image), Is.EqualTo("65532:65532"));
        Assert.That(PodmanOk("image", "inspect", "--format", "{{.HealthCheck.Test}}", Image), Does.Contain("/usr/local/bin/fastepmd -names"));
        Assert.That(PodmanOk("inspect", "--format", "{{.Config.User}}", s_epmd), Is.EqualTo("65532:65532"));
    }

    [Test, Order(2)]
    public void TheNodeRegistersAndNamesWorksInsideThePod()
    {
        string names = "";
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && !Regex.IsMatch(names, @"name app at port \d+"))
        {
            Thread.Sleep(200);
            names = Podman("exec", s_epmd, "/usr/local/bin/fastepmd", "-names").StdoutText;
        }
        Assert.That(names, Does.StartWith("epmd: up and running on port 4369 with data:"), Podman("logs", s_pod + "-app").ToString());
        Assert.That(names, Does.Match(@"name app at port \d+"));
        Assert.That(Podman("logs", s_epmd).StderrText, Does.Contain("(table 4096 connections)"));
    }

    [Test, Order(3)]
    public void TheHealthcheckIsHealthy()
    {
        var r = Podman("healthcheck", "run", s_epmd);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(PodmanOk("inspect", "--format", "{{.State.Health.Status}}", s_epmd), Is.EqualTo("healthy"));
    }

    [Test, Order(4)]
    public void StopExitsZeroWithinOneSecond()
    {
        var clock = Stopwatch.StartNew();
        var r = Podman("stop", "-t", "10", s_epmd);
        clock.Stop();
        Figure($"podman stop: {clock.ElapsedMilliseconds} ms (exit {r.ExitCode})");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(PodmanOk("inspect", "--format", "{{.State.ExitCode}}", s_epmd), Is.EqualTo("0"), "SIGTERM exits 0");
        Assert.That(clock.ElapsedMilliseconds, Is.LessThan(1000));
    }
}
