// The comparison chart: server CPU per request for each scenario, FastEpmd beside OTP and the
// kernel floor (where the cell runs it), on a log scale (the NAMES-1000 gap is two orders of magnitude). PNG through ScottPlot; an SVG written by
// hand beside it, so there is a chart even where rendering fails.
using System.Globalization;
using System.Text;
using FastEpmd.Load.Harness;
using ScottPlot;

namespace FastEpmd.Load.Report;

internal static class Chart
{
    private sealed record Group(string Scenario, double Fe, double Otp, string FeLabel, string OtpLabel, double Floor = double.NaN);

    private static List<Group> Groups(RunReport r)
    {
        var groups = new List<Group>();
        foreach (var scenario in r.Arms.Select(a => a.Scenario).Distinct())
        {
            var arms = r.Arms.Where(a => a.Scenario == scenario && a.Measured).ToList();
            if (scenario.StartsWith("hold", StringComparison.Ordinal) && scenario != "hold1000")
            {
                // Above 1,000 held OTP refuses: compare FastEpmd at N with FastEpmd at 1,000.
                var at = arms.FirstOrDefault(a => a.Label != Scenarios.Hold.BaselineLabel);
                var baseline = arms.FirstOrDefault(a => a.Label == Scenarios.Hold.BaselineLabel);
                // hold10000 measures memory only: no baseline beside it, no bar.
                if (at != null && baseline != null) groups.Add(new Group(scenario + "*", at.UsPerReq, baseline?.UsPerReq ?? double.NaN, "", "FastEpmd@1000"));
                continue;
            }
            var fe = arms.FirstOrDefault(a => a.Kind == DaemonKind.FastEpmd);
            var otp = arms.FirstOrDefault(a => a.Kind == DaemonKind.Otp);
            var floor = arms.FirstOrDefault(a => a.Kind == DaemonKind.Floor);
            groups.Add(new Group(scenario, fe?.UsPerReq ?? double.NaN, otp?.UsPerReq ?? double.NaN, "", "", floor?.UsPerReq ?? double.NaN));
        }
        return groups;
    }

    private static readonly Color FeColor = Color.FromHex("#1f77b4");
    private static readonly Color OtpColor = Color.FromHex("#d62728");
    private static readonly Color BaseColor = Color.FromHex("#9ecae1");
    private static readonly Color FloorColor = Color.FromHex("#7f7f7f");

    public static void Write(RunReport r, string path)
    {
        var groups = Groups(r);
        var plot = new Plot();
        var bars = new List<Bar>();
        var positions = new List<double>();
        var labels = new List<string>();
        for (int i = 0; i < groups.Count; i++)
        {
            var g = groups[i];
            double x = i * 4;
            positions.Add(x + 1);
            labels.Add(g.Scenario);
            if (!double.IsNaN(g.Fe))
                bars.Add(new Bar { Position = x, Value = Math.Log10(Math.Max(0.1, g.Fe)), ValueBase = -1, FillColor = FeColor, Label = Fmt(g.Fe) });
            if (!double.IsNaN(g.Otp))
                bars.Add(new Bar { Position = x + 1, Value = Math.Log10(Math.Max(0.1, g.Otp)), ValueBase = -1, FillColor = g.OtpLabel.Length > 0 ? BaseColor : OtpColor, Label = Fmt(g.Otp) });
            if (!double.IsNaN(g.Floor))
                bars.Add(new Bar { Position = x + 2, Value = Math.Log10(Math.Max(0.1, g.Floor)), ValueBase = -1, FillColor = FloorColor, Label = Fmt(g.Floor) });
        }
        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 11;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions.ToArray(), labels.ToArray());
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        var ticks = new[] { -1.0, 0, 1, 2, 3, 4 };
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks, ticks.Select(t => Fmt(Math.Pow(10, t))).ToArray());
        plot.Axes.SetLimitsY(-1, Math.Max(2, bars.Count == 0 ? 2 : bars.Max(b => b.Value) + 0.5));
        plot.Title("Server CPU per request at the same paced load (lower is better, log scale)");
        plot.YLabel("server CPU us / request");
        plot.XLabel("* OTP's select() refuses more than ~1,017 connections: FastEpmd at N held vs FastEpmd at 1,000 held");
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "FastEpmd (NativeAOT)", FillColor = FeColor });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "OTP epmd", FillColor = OtpColor });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "kernel floor (bench/floor/epmd_floor.c)", FillColor = FloorColor });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "FastEpmd @1,000 held (baseline)", FillColor = BaseColor });
        plot.Legend.Alignment = Alignment.UpperLeft;
        plot.ShowLegend();
        plot.SavePng(path, 1200, 620);
    }

    private static string Fmt(double v) => v >= 100 ? v.ToString("0", CultureInfo.InvariantCulture) : v >= 1 ? v.ToString("0.#", CultureInfo.InvariantCulture) : v.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>The same chart as plain SVG.</summary>
    public static void WriteSvg(RunReport r, string path)
    {
        var groups = Groups(r);
        const int W = 1200, H = 560, Left = 70, Bottom = 480, Top = 50;
        double maxLog = Math.Max(2, groups.SelectMany(g => new[] { g.Fe, g.Otp, g.Floor }).Where(v => !double.IsNaN(v)).Select(v => Math.Log10(Math.Max(0.1, v))).DefaultIfEmpty(2).Max() + 0.3);
        double Y(double v) => Bottom - (Math.Log10(Math.Max(0.1, v)) + 1) / (maxLog + 1) * (Bottom - Top);
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        s.Append(CultureInfo.InvariantCulture, $"<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n");
        s.Append("<text x=\"600\" y=\"25\" text-anchor=\"middle\" font-size=\"16\">Server CPU per request at the same paced load (us, log scale, lower is better)</text>\n");
        for (int t = -1; t <= (int)maxLog; t++)
        {
            double y = Y(Math.Pow(10, t));
            s.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{W - 20}\" y1=\"{y:0.0}\" y2=\"{y:0.0}\" stroke=\"#ddd\"/><text x=\"{Left - 6}\" y=\"{y + 4:0.0}\" text-anchor=\"end\">{Fmt(Math.Pow(10, t))}</text>\n");
        }
        double slot = (W - Left - 40.0) / Math.Max(1, groups.Count);
        for (int i = 0; i < groups.Count; i++)
        {
            var g = groups[i];
            double x = Left + 10 + i * slot;
            double bw = slot * 0.27;
            void BarAt(double bx, double v, string color)
            {
                if (double.IsNaN(v)) return;
                double y = Y(v);
                s.Append(CultureInfo.InvariantCulture, $"<rect x=\"{bx:0.0}\" y=\"{y:0.0}\" width=\"{bw:0.0}\" height=\"{Bottom - y:0.0}\" fill=\"{color}\"/><text x=\"{bx + bw / 2:0.0}\" y=\"{y - 4:0.0}\" text-anchor=\"middle\" font-size=\"11\">{Fmt(v)}</text>\n");
            }
            BarAt(x, g.Fe, "#1f77b4");
            BarAt(x + bw, g.Otp, g.OtpLabel.Length > 0 ? "#9ecae1" : "#d62728");
            BarAt(x + 2 * bw, g.Floor, "#7f7f7f");
            s.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + 1.5 * bw:0.0}\" y=\"{Bottom + 18}\" text-anchor=\"middle\">{System.Security.SecurityElement.Escape(g.Scenario)}</text>\n");
        }
        s.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{W - 20}\" y1=\"{Bottom}\" y2=\"{Bottom}\" stroke=\"black\"/>\n");
        s.Append("<rect x=\"80\" y=\"515\" width=\"14\" height=\"14\" fill=\"#1f77b4\"/><text x=\"100\" y=\"527\">FastEpmd (NativeAOT)</text>\n");
        s.Append("<rect x=\"280\" y=\"515\" width=\"14\" height=\"14\" fill=\"#d62728\"/><text x=\"300\" y=\"527\">OTP epmd</text>\n");
        s.Append("<rect x=\"400\" y=\"515\" width=\"14\" height=\"14\" fill=\"#7f7f7f\"/><text x=\"420\" y=\"527\">kernel floor (bench/floor/epmd_floor.c)</text>\n");
        s.Append("<rect x=\"680\" y=\"515\" width=\"14\" height=\"14\" fill=\"#9ecae1\"/><text x=\"700\" y=\"527\">FastEpmd @1,000 held (baseline where OTP refuses)</text>\n");
        s.Append("</svg>\n");
        File.WriteAllText(path, s.ToString());
    }
}
