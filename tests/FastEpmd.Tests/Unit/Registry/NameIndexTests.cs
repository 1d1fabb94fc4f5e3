// The name index: linear probing with backward-shift deletion, checked on wrapped probe runs,
// full-hash collisions and a seeded model test against a Dictionary.
using System.Text;
using FastEpmd.Registry;

namespace FastEpmd.Tests.Unit.Registry;

public class NameIndexTests
{
    /// <summary>Record i's name is names[i], as NodeRegistry's slab would give it.</summary>
    private sealed class Names
    {
        public readonly List<byte[]> All = new();

        public int Add(string name) => Add(Encoding.UTF8.GetBytes(name));

        public int Add(byte[] name)
        {
            All.Add(name);
            return All.Count - 1;
        }

        public NameIndex Index() => new(new RegistryMemory(), r => All[r], minCapacity: 16);
    }

    [Test]
    public void Find_add_remove()
    {
        var names = new Names();
        var index = names.Index();
        int foo = names.Add("foo");
        int bar = names.Add("bar");
        Assert.That(index.Find("foo"u8), Is.EqualTo(-1));
        index.Add(foo, names.All[foo]);
        index.Add(bar, names.All[bar]);
        Assert.That(index.Find("foo"u8), Is.EqualTo(foo));
        Assert.That(index.Find("bar"u8), Is.EqualTo(bar));
        Assert.That(index.Find("Foo"u8), Is.EqualTo(-1), "byte-exact, case-sensitive");
        Assert.That(index.Find("fo"u8), Is.EqualTo(-1));
        Assert.That(index.Count, Is.EqualTo(2));
        index.Remove(foo, names.All[foo]);
        Assert.That(index.Find("foo"u8), Is.EqualTo(-1));
        Assert.That(index.Find("bar"u8), Is.EqualTo(bar));
        Assert.That(index.Count, Is.EqualTo(1));
    }

    [Test]
    public void Empty_name_is_a_key_like_any_other()
    {
        var names = new Names();
        var index = names.Index();
        int empty = names.Add("");
        index.Add(empty, names.All[empty]);
        Assert.That(index.Find(ReadOnlySpan<byte>.Empty), Is.EqualTo(empty));
    }

    [Test]
    public void Removing_a_record_not_in_the_index_throws()
    {
        var names = new Names();
        var index = names.Index();
        int a = names.Add("a");
        Assert.Throws<InvalidOperationException>(() => index.Remove(a, names.All[a]));
    }

    /// <summary>Names whose home slot in a 16-slot table is the given one.</summary>
    private static List<string> NamesWithHome(int home, int count, string prefix)
    {
        var found = new List<string>();
        for (int i = 0; found.Count < count; i++)
        {
            string name = prefix + i;
            if ((NameIndex.Hash(Encoding.UTF8.GetBytes(name)) & 15) == home) found.Add(name);
        }
        return found;
    }

    [Test]
    public void Backward_shift_keeps_a_wrapped_probe_run_findable_whatever_the_removal_order()
    {
        // A fresh index has 16 slots and holds 8 before growing. Names homed at slots 13, 14
        // and 0 fill 13..15 and 0..4: one run that wraps around the end, with members whose
        // home is before the wrap sitting after it and the other way round.
        var chosen = NamesWithHome(13, 4, "a").Concat(NamesWithHome(14, 2, "b")).Concat(NamesWithHome(0, 2, "c")).ToList();
        var rng = new Random(11);
        for (int round = 0; round < 200; round++)
        {
            var names = new Names();
            var index = names.Index();
            var order = chosen.OrderBy(_ => rng.Next()).ToList();
            foreach (var n in order)
            {
                int r = names.Add(n);
                index.Add(r, names.All[r]);
            }
            var present = Enumerable.Range(0, names.All.Count).ToList();
            foreach (int victim in present.OrderBy(_ => rng.Next()).ToList())
            {
                index.Remove(victim, names.All[victim]);
                present.Remove(victim);
                Assert.That(index.Find(names.All[victim]), Is.EqualTo(-1));
                foreach (int r in present)
                    Assert.That(index.Find(names.All[r]), Is.EqualTo(r), $"round {round}: lost '{Encoding.UTF8.GetString(names.All[r])}'");
            }
        }
    }

    [Test]
    public void Names_with_the_same_full_hash_are_told_apart_by_their_bytes()
    {
        // The hash is seeded per process, so find a colliding pair now (birthday bound: about
        // one pair per 93k names).
        var seen = new Dictionary<int, string>();
        string? a = null, b = null;
        for (int i = 0; i < 2_000_000 && a is null; i++)
        {
            string name = "c" + i;
            int h = NameIndex.Hash(Encoding.UTF8.GetBytes(name));
            if (seen.TryGetValue(h, out var other)) (a, b) = (other, name);
            else seen[h] = name;
        }
        Assert.That(a, Is.Not.Null, "no full-hash collision found");
        var names = new Names();
        var index = names.Index();
        int ra = names.Add(a!);
        int rb = names.Add(b!);
        index.Add(ra, names.All[ra]);
        Assert.That(index.Find(names.All[rb]), Is.EqualTo(-1));
        index.Add(rb, names.All[rb]);
        Assert.That(index.Find(names.All[ra]), Is.EqualTo(ra));
        Assert.That(index.Find(names.All[rb]), Is.EqualTo(rb));
        index.Remove(ra, names.All[ra]);
        Assert.That(index.Find(names.All[ra]), Is.EqualTo(-1));
        Assert.That(index.Find(names.All[rb]), Is.EqualTo(rb));
    }

    [Test]
    public void Randomized_against_a_dictionary_model()
    {
        // 100k operations over a universe small enough that adds and removes keep colliding.
        const int Universe = 3000;
        var rng = new Random(20260515);
        var names = new Names();
        for (int i = 0; i < Universe; i++)
        {
            // Mixed lengths, shared prefixes, some non-ASCII.
            string name = (i % 3) switch { 0 => "n" + i, 1 => "node_" + i + "@host", _ => "ü" + (i * 7919) };
            names.Add(name);
        }
        var index = names.Index();
        var model = new Dictionary<string, int>();

        for (int op = 0; op < 100_000; op++)
        {
            int r = rng.Next(Universe);
            string key = Encoding.UTF8.GetString(names.All[r]);
            if (model.ContainsKey(key))
            {
                if (rng.Next(4) != 0)
                {
                    index.Remove(r, names.All[r]);
                    model.Remove(key);
                }
            }
            else
            {
                index.Add(r, names.All[r]);
                model[key] = r;
            }
            Assert.That(index.Count, Is.EqualTo(model.Count));
            int probe = rng.Next(Universe);
            int expected = model.TryGetValue(Encoding.UTF8.GetString(names.All[probe]), out var m) ? m : -1;
            if (index.Find(names.All[probe]) != expected)
                Assert.Fail($"op {op}: Find(record {probe}) = {index.Find(names.All[probe])}, model says {expected}");
            if (op % 5000 == 0)
            {
                for (int i = 0; i < Universe; i++)
                {
                    int want = model.TryGetValue(Encoding.UTF8.GetString(names.All[i]), out var w) ? w : -1;
                    if (index.Find(names.All[i]) != want) Assert.Fail($"op {op}: full check failed at record {i}");
                }
            }
        }
        foreach (var (key, r) in model) Assert.That(index.Find(Encoding.UTF8.GetBytes(key)), Is.EqualTo(r));
    }
}
