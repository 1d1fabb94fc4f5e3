// The folders are the layers and data flows one way: no folder of FastEpmd.Core references a folder
// above it, and no two folders reference each other. The order is README's "Layout" section, read
// from the README itself so it is written once. The model is ArchUnitNET's (Mono.Cecil over the
// built assembly), so a reference in a signature, a field, a body or an attribute all count.
using System.Text.RegularExpressions;
using ArchUnitNET.Domain;
using ArchUnitNET.Domain.Dependencies;
using ArchUnitNET.Loader;
using ArchUnitNET.NUnit;
using FastEpmd.Loop;

namespace FastEpmd.Tests.Architecture;

public class LayerTests
{
    private static readonly Lazy<ArchUnitNET.Domain.Architecture> s_core =
        new(() => new ArchLoader().LoadAssemblies(typeof(EventLoop).Assembly).Build());

    /// <summary>The folders of FastEpmd.Core, lowest first, as README's Layout section lists them.</summary>
    public static IReadOnlyList<string> LayerOrder()
    {
        string readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));
        var match = Regex.Match(readme, @"Layer order, lowest first:\s*((?:`[A-Za-z/]+`(?:,\s*|\.))+)");
        if (!match.Success) throw new InvalidOperationException("README.md has no \"Layer order, lowest first:\" line in its Layout section");
        return Regex.Matches(match.Groups[1].Value, "`([A-Za-z/]+)`").Select(m => m.Groups[1].Value).ToList();
    }

    /// <summary>A Core type's folder ("Loop", "Endpoints/Epmd"), or null for what is not ours (compiler-made, root).</summary>
    public static string? FolderOf(IType type)
    {
        // A function pointer type (delegate* unmanaged<...>, KqueueCalls) has no namespace.
        string? ns = type.Namespace?.FullName;
        if (ns is null || !ns.StartsWith("FastEpmd.", StringComparison.Ordinal)) return null;
        return ns["FastEpmd.".Length..].Replace('.', '/');
    }

    /// <summary>Every (from folder, to folder, example) edge between two different folders of Core.</summary>
    public static List<(string From, string To, string Example)> FolderEdges(ArchUnitNET.Domain.Architecture architecture)
    {
        var edges = new Dictionary<(string, string), string>();
        foreach (var type in architecture.Types)
        {
            string? from = FolderOf(type);
            if (from == null) continue;
            foreach (ITypeDependency dependency in type.Dependencies)
            {
                string? to = FolderOf(dependency.Target);
                if (to == null || to == from) continue;
                edges.TryAdd((from, to), $"{type.FullName} -> {dependency.Target.FullName}");
            }
        }
        return edges.Select(e => (e.Key.Item1, e.Key.Item2, e.Value)).OrderBy(e => e.Item1).ThenBy(e => e.Item2).ToList();
    }

    /// <summary>Edges that go from a lower layer to a higher one, or to a folder the order does not name.</summary>
    public static List<string> UpwardReferences(IReadOnlyList<string> order, IEnumerable<(string From, string To, string Example)> edges)
    {
        var rank = order.Select((folder, i) => (folder, i)).ToDictionary(p => p.folder, p => p.i);
        var wrong = new List<string>();
        foreach (var (from, to, example) in edges)
        {
            if (!rank.TryGetValue(from, out int f)) wrong.Add($"{from} is not in README's layer order ({example})");
            else if (!rank.TryGetValue(to, out int t)) wrong.Add($"{to} is not in README's layer order ({example})");
            else if (t > f) wrong.Add($"{from} (layer {f}) references {to} (layer {t}), above it: {example}");
        }
        return wrong;
    }

    [Test]
    public void No_folder_references_a_folder_above_it()
    {
        var order = LayerOrder();
        var wrong = UpwardReferences(order, FolderEdges(s_core.Value));
        Assert.That(wrong, Is.Empty, "layer order: " + string.Join(" < ", order));
    }

    [Test]
    public void Every_folder_of_the_tree_is_a_layer_in_the_readme()
    {
        string core = Path.Combine(RepoRoot(), "src", "FastEpmd.Core");
        var folders = Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(core, Path.GetDirectoryName(f)!).Replace('\\', '/'))
            .Where(d => d != "." && !d.StartsWith("obj", StringComparison.Ordinal) && !d.StartsWith("bin", StringComparison.Ordinal)
                && !d.StartsWith("Properties", StringComparison.Ordinal))
            .Distinct()
            .Order()
            .ToList();
        Assert.That(folders, Is.EquivalentTo(LayerOrder()), "README's layer order and src/FastEpmd.Core's folders");
    }

    [Test]
    public void No_two_folders_reference_each_other()
    {
        // ArchUnitNET's own cycle check over folder slices, beside the order above: a cycle would
        // also break the order, but this names it as one.
        ArchUnitNET.Fluent.Slices.SliceRuleDefinition.Slices().Matching("FastEpmd.(**)").Should().BeFreeOfCycles()
            .Check(s_core.Value);
    }

    [Test]
    public void The_check_sees_a_planted_upward_reference()
    {
        // Interop (the lowest layer) naming the loop, as Interop/DescriptorPassing.cs once named the reactor.
        var order = LayerOrder();
        var planted = FolderEdges(s_core.Value).Append(("Interop", "Loop", "Interop.Planted -> Loop.EventLoop")).ToList();
        Assert.That(UpwardReferences(order, planted), Has.Some.Contains("Interop (layer 0) references Loop"));
    }

    private static string RepoRoot()
    {
        var attribute = typeof(LayerTests).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot");
        return attribute.Value!;
    }
}
