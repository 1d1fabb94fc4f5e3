// --compare A.json B.json: the verdicts of two full runs side by side. Two runs agree when every
// tail verdict and every burst verdict is the same in both; the exit code says whether they do.
using System.Text.Json;

namespace FastEpmd.Load.Report;

internal static class Compare
{
    public static int Run(string first, string second)
    {
        var a = Verdicts(first);
        var b = Verdicts(second);
        int disagree = 0;
        Console.WriteLine($"| verdict | {Path.GetFileName(first)} | {Path.GetFileName(second)} | |\n|---|---|---|---|");
        foreach (var key in a.Keys.Union(b.Keys))
        {
            (string Verdict, string Figures) missing = ("(missing)", "");
            var va = a.GetValueOrDefault(key, missing);
            var vb = b.GetValueOrDefault(key, missing);
            bool same = va.Verdict == vb.Verdict;
            if (!same) disagree++;
            Console.WriteLine($"| {key} | {va.Verdict} {va.Figures} | {vb.Verdict} {vb.Figures} | {(same ? "same" : "**differs**")} |");
        }
        Console.WriteLine(disagree == 0 && a.Count > 0
            ? $"\nThe two runs agree: {a.Count} verdicts, every one the same."
            : $"\n{disagree} of {a.Keys.Union(b.Keys).Count()} verdicts differ{(a.Count == 0 ? " (no verdicts: quick runs?)" : "")}.");
        return disagree == 0 && a.Count > 0 ? 0 : 1;
    }

    /// <summary>Verdict word (what decides agreement) and the FastEpmd / OTP figures shown beside it.</summary>
    private static Dictionary<string, (string Verdict, string Figures)> Verdicts(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var verdicts = new Dictionary<string, (string Verdict, string Figures)>();
        foreach (var t in root.GetProperty("tailVerdicts").EnumerateArray())
        {
            verdicts[$"{t.GetProperty("scenario").GetString()} {t.GetProperty("percentile").GetString()} {t.GetProperty("daemon").GetString()} vs OTP"] =
                (t.GetProperty("verdict").GetString()!, $"({Range(t.GetProperty("fastepmdUs"))} / {Range(t.GetProperty("otpUs"))} us)");
        }
        foreach (var v in root.GetProperty("burstVerdicts").EnumerateArray())
        {
            verdicts[$"burst {v.GetProperty("n").GetInt32()} last reply {v.GetProperty("daemon").GetString()} vs OTP"] =
                (v.GetProperty("verdict").GetString()!, $"({Range(v.GetProperty("fastepmdMs"))} / {Range(v.GetProperty("otpMs"))} ms)");
        }
        return verdicts;
    }

    private static string Range(JsonElement spread) =>
        $"{spread.GetProperty("median").GetDouble():0} ({spread.GetProperty("min").GetDouble():0}-{spread.GetProperty("max").GetDouble():0})";
}
