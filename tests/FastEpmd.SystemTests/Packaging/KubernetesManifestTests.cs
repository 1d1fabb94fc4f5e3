// dist/container/kubernetes-sidecar.yaml against the Kubernetes API's schema (validate-k8s.mjs,
// validators installed from npm by ./build.sh test), then the properties the sidecar story needs.
using System.Text.Json;

namespace FastEpmd.SystemTests.Packaging;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class KubernetesManifestTests
{
    private static string Manifest => Path.Combine(Binaries.RepoRoot, "dist", "container", "kubernetes-sidecar.yaml");

    private static CliOutcome Validate(string manifest)
    {
        string validators = Path.Combine(Binaries.RepoRoot, "out", "npm");
        if (!Directory.Exists(Path.Combine(validators, "node_modules", "kubernetes-models")))
            throw new InvalidOperationException($"no validators in {validators}: ./build.sh test installs them from npm first (its k8s_validator step)");
        return CliRun.Run("node", new[] { Path.Combine(Binaries.RepoRoot, "tests", "FastEpmd.SystemTests", "Packaging", "validate-k8s.mjs"),
            validators, manifest }, timeout: TimeSpan.FromSeconds(60));
    }

    // One validation (tsc takes seconds) for every property test.
    private static readonly Lazy<JsonElement> s_pod = new(ValidatedPod);

    private static JsonElement Pod() => s_pod.Value;

    private static JsonElement ValidatedPod()
    {
        var r = Validate(Manifest);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        var docs = JsonDocument.Parse(r.StdoutText).RootElement;
        Assert.That(docs.GetArrayLength(), Is.EqualTo(1));
        return docs[0];
    }

    [Test]
    public void TheManifestPassesTheSchemaCheck() => Assert.That(Pod().GetProperty("kind").GetString(), Is.EqualTo("Pod"));

    // The check must be able to fail: a wrong type and a misspelled field are both caught.
    [TestCase("runAsUser: 65532", "runAsUser: nobody")]
    [TestCase("readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true")]
    public void TheSchemaCheckRejectsABrokenManifest(string from, string to)
    {
        var broken = Path.Combine(Path.GetTempPath(), $"fe-k8s-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(broken, File.ReadAllText(Manifest).Replace(from, to));
        try
        {
            var r = Validate(broken);
            Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Test]
    public void EpmdIsANativeSidecarThatStartsFirst()
    {
        var spec = Pod().GetProperty("spec");
        var epmd = spec.GetProperty("initContainers")[0];
        Assert.That(epmd.GetProperty("restartPolicy").GetString(), Is.EqualTo("Always"));
        Assert.That(epmd.GetProperty("startupProbe").GetProperty("exec").GetProperty("command").EnumerateArray().Select(e => e.GetString()),
            Is.EqualTo(new[] { "/usr/local/bin/fastepmd", "-names" }));
        Assert.That(epmd.GetProperty("args").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "-max_connections", "4096" }));
        Assert.That(epmd.GetProperty("image").GetString(), Does.Not.EndWith(":latest"));
        Assert.That(epmd.GetProperty("imagePullPolicy").GetString(), Is.EqualTo("IfNotPresent"));
        Assert.That(spec.GetProperty("containers").EnumerateArray().Select(c => c.GetProperty("name").GetString()), Does.Not.Contain("epmd"));
    }

    [Test]
    public void EveryContainerIsLockedDown()
    {
        var spec = Pod().GetProperty("spec");
        Assert.That(spec.GetProperty("securityContext").GetProperty("seccompProfile").GetProperty("type").GetString(), Is.EqualTo("RuntimeDefault"));
        var epmd = spec.GetProperty("initContainers")[0].GetProperty("securityContext");
        Assert.That(epmd.GetProperty("runAsUser").GetInt32(), Is.EqualTo(65532));
        Assert.That(epmd.GetProperty("runAsNonRoot").GetBoolean(), Is.True);
        Assert.That(epmd.GetProperty("readOnlyRootFilesystem").GetBoolean(), Is.True);
        Assert.That(epmd.GetProperty("allowPrivilegeEscalation").GetBoolean(), Is.False);
        Assert.That(epmd.GetProperty("seccompProfile").GetProperty("type").GetString(), Is.EqualTo("RuntimeDefault"));
        foreach (var c in spec.GetProperty("initContainers").EnumerateArray().Concat(spec.GetProperty("containers").EnumerateArray()))
        {
            Assert.That(c.GetProperty("securityContext").GetProperty("capabilities").GetProperty("drop").EnumerateArray().Select(e => e.GetString()),
                Is.EqualTo(new[] { "ALL" }), c.GetProperty("name").GetString());
        }
    }

    [Test]
    public void TheAppsDistributionPortIsFixedAndDeclared()
    {
        var app = Pod().GetProperty("spec").GetProperty("containers")[0];
        var flags = app.GetProperty("env").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "ERL_FLAGS").GetProperty("value").GetString();
        Assert.That(flags, Does.Contain("-start_epmd false"));
        Assert.That(flags, Does.Contain("-kernel inet_dist_listen_min 9100").And.Contain("-kernel inet_dist_listen_max 9100"));
        Assert.That(app.GetProperty("ports").EnumerateArray().Select(p => p.GetProperty("containerPort").GetInt32()), Does.Contain(9100));
    }
}
