// Debian's prometheus binary with its own temp config and storage, on a loopback port below the
// ephemeral range, scraping one target every second. Queried through its HTTP API; stopped by PID.
using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using System.Text.Json;

namespace FastEpmd.Testing;

public sealed class PrometheusServer : IDisposable
{
    private readonly Process _process;
    private readonly string _dir;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public int Port { get; }

    private PrometheusServer(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
    }

    public static string Binary => Environment.GetEnvironmentVariable("PROMETHEUS_BIN") is { Length: > 0 } p ? p : "/usr/bin/prometheus";

    public static PrometheusServer Start(int targetPort)
    {
        var dir = Directory.CreateTempSubdirectory("fastepmd-prometheus-").FullName;
        File.WriteAllText(Path.Combine(dir, "prometheus.yml"),
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n" +
            "scrape_configs:\n  - job_name: fastepmd\n    static_configs:\n" +
            $"      - targets: ['127.0.0.1:{targetPort}']\n");
        int port = Ports.Free();
        var psi = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     "--config.file=" + Path.Combine(dir, "prometheus.yml"),
                     "--storage.tsdb.path=" + Path.Combine(dir, "data"),
                     $"--web.listen-address=127.0.0.1:{port}",
                     "--log.level=warn",
                 })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + Binary);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(process, dir, port);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                if (server._http.GetAsync($"http://127.0.0.1:{port}/-/ready").Result.IsSuccessStatusCode) return server;
            }
            catch (AggregateException)
            {
            }
            Thread.Sleep(200);
        }
        server.Dispose();
        throw new InvalidOperationException("prometheus did not become ready on port " + port);
    }

    /// <summary>An instant query's samples: the label set (as JSON text) and the value.</summary>
    public List<(JsonElement Metric, double Value)> Query(string promql)
    {
        var url = $"http://127.0.0.1:{Port}/api/v1/query?query={Uri.EscapeDataString(promql)}";
        using var doc = JsonDocument.Parse(_http.GetStringAsync(url).Result);
        var root = doc.RootElement;
        if (root.GetProperty("status").GetString() != "success") throw new InvalidOperationException("query failed: " + root);
        var result = new List<(JsonElement, double)>();
        foreach (var sample in root.GetProperty("data").GetProperty("result").EnumerateArray())
        {
            var value = sample.GetProperty("value")[1].GetString()!;
            result.Add((sample.GetProperty("metric").Clone(), double.Parse(value, CultureInfo.InvariantCulture)));
        }
        return result;
    }

    /// <summary>The single value of a query, or null when it has no sample (yet).</summary>
    public double? Value(string promql) => Query(promql) is { Count: 1 } r ? r[0].Value : null;

    /// <summary>Polls until the query has the expected single value (scrapes come every second).</summary>
    public double? WaitFor(string promql, double expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        double? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = Value(promql);
            if (last == expected) return last;
            Thread.Sleep(250);
        }
        return last;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Native.Kill(_process.Id, Native.SIGTERM);
                if (!_process.WaitForExit(5000)) Native.Kill(_process.Id, Native.SIGKILL);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        _http.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
