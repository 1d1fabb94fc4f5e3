// The catalogue of differential sequences. Names are unique; each becomes one NUnit test case.
namespace FastEpmd.SystemTests.Differential;

internal static partial class DiffSequences
{
    private static readonly Lazy<IReadOnlyDictionary<string, DiffSequence>> s_byName = new(() =>
    {
        var all = Registration().Concat(NameLimits()).Concat(Queries()).Concat(Admin()).Concat(Frames()).Concat(Lifecycle()).ToList();
        var duplicate = all.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null) throw new InvalidOperationException($"duplicate sequence name {duplicate.Key}");
        return all.ToDictionary(s => s.Name);
    });

    public static IEnumerable<string> Names => s_byName.Value.Keys;

    public static DiffSequence Get(string name) => s_byName.Value[name];
}
