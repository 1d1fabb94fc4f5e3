// Registration, lookup, unregistration, list orders and OTP's creation rules (spec 2.4).
using System.Text;
using FastEpmd.Registry;

namespace FastEpmd.Tests.Unit.Registry;

public class NodeRegistryTests
{
    private const long T0 = 1_700_000_000;

    private static RegisterStatus Register(NodeRegistry registry, string name, out int record, long now = T0,
        ulong owner = 1, ushort port = 4000, int fd = 7, string extraHex = "")
    {
        return registry.Register(Encoding.UTF8.GetBytes(name), Hex.Parse(extraHex), port, 77, 0, 6, 5, owner, fd, now, out record);
    }

    private static int Register(NodeRegistry registry, string name, long now = T0, ulong owner = 1, ushort port = 4000)
    {
        Assert.That(Register(registry, name, out int record, now, owner, port), Is.EqualTo(RegisterStatus.Registered));
        return record;
    }

    private static List<string> Walk(NodeRegistry registry, int first)
    {
        var names = new List<string>();
        for (int r = first; r >= 0; r = registry.NextInList(r)) names.Add(Encoding.UTF8.GetString(registry.Name(r)));
        return names;
    }

    private static List<string> Registered(NodeRegistry registry) => Walk(registry, registry.FirstRegistered);
    private static List<string> Remembered(NodeRegistry registry) => Walk(registry, registry.FirstRemembered);

    [Test]
    public void Register_stores_every_field_and_lookup_finds_it()
    {
        var registry = new NodeRegistry();
        var status = registry.Register("n6"u8, Hex.Parse("41 42 43 00 00"), 0x457, 72, 1, 0xffff, 9, owner: 42, fd: 9,
            unixSeconds: T0, out int record);
        Assert.That(status, Is.EqualTo(RegisterStatus.Registered));
        Assert.That(registry.FindRegistered("n6"u8), Is.EqualTo(record));
        var r = registry[record];
        Assert.Multiple(() =>
        {
            Assert.That(r.State, Is.EqualTo(NodeState.Registered));
            Assert.That(r.Port, Is.EqualTo(0x457));
            Assert.That(r.NodeType, Is.EqualTo(72));
            Assert.That(r.Protocol, Is.EqualTo(1));
            Assert.That(r.HighestVersion, Is.EqualTo(0xffff));
            Assert.That(r.LowestVersion, Is.EqualTo(9));
            Assert.That(r.Owner, Is.EqualTo(42UL));
            Assert.That(r.Fd, Is.EqualTo(9));
            Assert.That(r.Creation, Is.EqualTo((uint)(T0 + 1)));
            Assert.That(Hex.Format(registry.Name(record)), Is.EqualTo("6e 36"));
            Assert.That(Hex.Format(registry.Extra(record)), Is.EqualTo("41 42 43 00 00"));
            Assert.That(registry.RegisteredCount, Is.EqualTo(1));
            Assert.That(registry.RememberedCount, Is.EqualTo(0));
        });
    }

    [Test]
    public void Stored_bytes_are_a_copy()
    {
        var registry = new NodeRegistry();
        var name = Hex.Utf8("abc");
        var extra = Hex.Parse("01 02");
        registry.Register(name, extra, 1, 77, 0, 6, 5, 1, 1, T0, out int record);
        name[0] = (byte)'x';
        extra[0] = 0xff;
        Assert.That(Hex.Format(registry.Name(record)), Is.EqualTo("61 62 63"));
        Assert.That(Hex.Format(registry.Extra(record)), Is.EqualTo("01 02"));
        Assert.That(registry.FindRegistered("abc"u8), Is.EqualTo(record));
    }

    [Test]
    public void Lookup_is_byte_exact_and_case_sensitive()
    {
        var registry = new NodeRegistry();
        int lower = Register(registry, "foo");
        int upper = Register(registry, "Foo");
        Assert.That(upper, Is.Not.EqualTo(lower));
        Assert.That(registry.FindRegistered("foo"u8), Is.EqualTo(lower));
        Assert.That(registry.FindRegistered("Foo"u8), Is.EqualTo(upper));
        Assert.That(registry.FindRegistered("fo"u8), Is.EqualTo(-1));
        Assert.That(registry.FindRegistered("foo "u8), Is.EqualTo(-1));
    }

    [Test]
    public void Empty_name_registers()
    {
        var registry = new NodeRegistry();
        Assert.That(registry.Register(ReadOnlySpan<byte>.Empty, Hex.Parse("41"), 1, 77, 0, 6, 5, 1, 1, T0, out int record),
            Is.EqualTo(RegisterStatus.Registered));
        Assert.That(registry.FindRegistered(ReadOnlySpan<byte>.Empty), Is.EqualTo(record));
        Assert.That(Hex.Format(registry.Extra(record)), Is.EqualTo("41"));
    }

    [Test]
    public void Largest_name_and_extra_are_stored_whole()
    {
        var registry = new NodeRegistry();
        var name = TestBytes.Repeat("f0 9f 98 88", 255);
        var extra = TestBytes.Repeat("a5", 1020);
        registry.Register(name, extra, 1, 77, 0, 6, 5, 1, 1, T0, out int record);
        Register(registry, "neighbour");
        Assert.That(registry.Name(record).ToArray(), Is.EqualTo(name));
        Assert.That(registry.Extra(record).ToArray(), Is.EqualTo(extra));
    }

    [Test]
    public void Unregister_moves_the_record_to_the_remembered_list()
    {
        var registry = new NodeRegistry();
        int record = Register(registry, "foo", owner: 5);
        registry.Unregister(record);
        Assert.Multiple(() =>
        {
            Assert.That(registry.FindRegistered("foo"u8), Is.EqualTo(-1));
            Assert.That(registry.RegisteredCount, Is.EqualTo(0));
            Assert.That(registry.RememberedCount, Is.EqualTo(1));
            Assert.That(registry.FirstRegistered, Is.EqualTo(-1));
            Assert.That(registry.FirstRemembered, Is.EqualTo(record));
            Assert.That(registry[record].State, Is.EqualTo(NodeState.Remembered));
            Assert.That(registry[record].Owner, Is.EqualTo(0UL));
            Assert.That(registry[record].Fd, Is.EqualTo(7), "DUMP shows the stale fd of a remembered name");
            Assert.That(registry[record].Port, Is.EqualTo(4000), "DUMP shows the old port");
        });
    }

    [Test]
    public void Unregister_of_a_record_that_is_not_registered_throws()
    {
        var registry = new NodeRegistry();
        int record = Register(registry, "foo");
        registry.Unregister(record);
        Assert.Throws<InvalidOperationException>(() => registry.Unregister(record));
    }

    [Test]
    public void Duplicate_is_refused_and_the_owner_is_untouched()
    {
        var registry = new NodeRegistry();
        Assert.That(registry.Register("foo"u8, Hex.Parse("01"), 1111, 77, 0, 6, 5, owner: 10, fd: 3, T0, out int record),
            Is.EqualTo(RegisterStatus.Registered));
        long version = registry.Version;
        var status = registry.Register("foo"u8, Hex.Parse("02 02"), 2222, 72, 1, 5, 5, owner: 11, fd: 4, T0 + 50, out int ownerRecord);
        Assert.That(status, Is.EqualTo(RegisterStatus.Duplicate));
        Assert.That(ownerRecord, Is.EqualTo(record), "a refusal names the owner's record (the restart-race probe uses it)");
        var r = registry[record];
        Assert.Multiple(() =>
        {
            Assert.That(registry.FindRegistered("foo"u8), Is.EqualTo(record));
            Assert.That(r.Owner, Is.EqualTo(10UL));
            Assert.That(r.Port, Is.EqualTo(1111));
            Assert.That(r.NodeType, Is.EqualTo(77));
            Assert.That(r.Fd, Is.EqualTo(3));
            Assert.That(r.Creation, Is.EqualTo((uint)(T0 + 1)));
            Assert.That(Hex.Format(registry.Extra(record)), Is.EqualTo("01"));
            Assert.That(registry.RegisteredCount, Is.EqualTo(1));
            Assert.That(registry.Version, Is.EqualTo(version), "a refusal changes nothing");
        });
    }

    [Test]
    public void Names_order_is_newest_first_through_any_unregistration()
    {
        var registry = new NodeRegistry();
        int a = Register(registry, "a");
        int b = Register(registry, "b");
        int c = Register(registry, "c");
        int d = Register(registry, "d");
        Assert.That(Registered(registry), Is.EqualTo(new[] { "d", "c", "b", "a" }));
        registry.Unregister(b);                   // middle
        Assert.That(Registered(registry), Is.EqualTo(new[] { "d", "c", "a" }));
        registry.Unregister(d);                   // head
        Assert.That(Registered(registry), Is.EqualTo(new[] { "c", "a" }));
        registry.Unregister(a);                   // tail
        Assert.That(Registered(registry), Is.EqualTo(new[] { "c" }));
        Register(registry, "b");                  // back from the remembered list: newest again
        Assert.That(Registered(registry), Is.EqualTo(new[] { "b", "c" }));
        registry.Unregister(c);
        registry.Unregister(registry.FindRegistered("b"u8));
        Assert.That(Registered(registry), Is.Empty);
        Assert.That(registry.FirstRegistered, Is.EqualTo(-1));
    }

    [Test]
    public void Remembered_list_is_fifo_oldest_first()
    {
        var registry = new NodeRegistry();
        int a = Register(registry, "a");
        int b = Register(registry, "b");
        int c = Register(registry, "c");
        int d = Register(registry, "d");
        registry.Unregister(c);
        registry.Unregister(a);
        registry.Unregister(d);
        registry.Unregister(b);
        Assert.That(Remembered(registry), Is.EqualTo(new[] { "c", "a", "d", "b" }));
        Register(registry, "a");                  // leaves from the middle
        Assert.That(Remembered(registry), Is.EqualTo(new[] { "c", "d", "b" }));
        Register(registry, "c");                  // leaves from the head
        Assert.That(Remembered(registry), Is.EqualTo(new[] { "d", "b" }));
        Register(registry, "b");                  // leaves from the tail
        Assert.That(Remembered(registry), Is.EqualTo(new[] { "d" }));
        registry.Unregister(registry.FindRegistered("a"u8));   // new tail after a tail removal
        Assert.That(Remembered(registry), Is.EqualTo(new[] { "d", "a" }));
        Assert.That(registry.RememberedCount, Is.EqualTo(2));
    }

    [Test]
    public void Fresh_name_gets_the_clock_plus_one_and_the_same_second_gives_the_same_creation()
    {
        var registry = new NodeRegistry();
        int a = Register(registry, "a", now: T0);
        int b = Register(registry, "b", now: T0);
        int c = Register(registry, "c", now: T0 + 7);
        Assert.That(registry[a].Creation, Is.EqualTo((uint)(T0 + 1)));
        Assert.That(registry[b].Creation, Is.EqualTo((uint)(T0 + 1)));
        Assert.That(registry[c].Creation, Is.EqualTo((uint)(T0 + 8)));
    }

    [Test]
    public void Registering_a_remembered_name_again_bumps_its_creation_whatever_the_clock()
    {
        var registry = new NodeRegistry();
        int record = Register(registry, "a", now: T0);
        for (int i = 1; i <= 3; i++)
        {
            registry.Unregister(record);
            int again = Register(registry, "a", now: T0 + 1000 * i);
            Assert.That(again, Is.EqualTo(record), "the remembered record is reused");
            Assert.That(registry[again].Creation, Is.EqualTo((uint)(T0 + 1 + i)));
        }
        Assert.That(registry.RememberedCount, Is.EqualTo(0));
    }

    [Test]
    public void Bump_floor_at_4_across_the_32_bit_wrap()
    {
        var registry = new NodeRegistry();
        int record = Register(registry, "w", now: 0xfffffffe);
        Assert.That(registry[record].Creation, Is.EqualTo(0xffffffffu));
        registry.Unregister(record);
        Register(registry, "w");
        Assert.That(registry[record].Creation, Is.EqualTo(4u), "0xffffffff + 1 wraps to 0, which is < 4");
        registry.Unregister(record);
        Register(registry, "w");
        Assert.That(registry[record].Creation, Is.EqualTo(5u));

        int low = Register(registry, "low", now: 2);
        Assert.That(registry[low].Creation, Is.EqualTo(4u));
    }

    [Test]
    public void Re_registration_replaces_port_extra_and_owner()
    {
        var registry = new NodeRegistry();
        Assert.That(Register(registry, "a", out int record, owner: 1, port: 1, fd: 5, extraHex: Hex.Format(TestBytes.Repeat("aa", 1000))),
            Is.EqualTo(RegisterStatus.Registered));
        registry.Unregister(record);
        Assert.That(Register(registry, "a", out int again, owner: 2, port: 2, fd: 6, extraHex: ""), Is.EqualTo(RegisterStatus.Registered));
        Assert.That(again, Is.EqualTo(record));
        Assert.That(registry.Extra(record).Length, Is.EqualTo(0));
        Assert.That(registry[record].Port, Is.EqualTo(2));
        Assert.That(registry[record].Owner, Is.EqualTo(2UL));
        Assert.That(registry[record].Fd, Is.EqualTo(6));
        registry.Unregister(record);
        Assert.That(Register(registry, "a", out _, owner: 3, extraHex: Hex.Format(TestBytes.Repeat("bb", 1020))), Is.EqualTo(RegisterStatus.Registered));
        Assert.That(registry.Extra(record).ToArray(), Is.EqualTo(TestBytes.Repeat("bb", 1020)));
        Assert.That(Hex.Format(registry.Name(record)), Is.EqualTo("61"));
    }

    [Test]
    public void Remembered_list_over_the_limit_is_taken_over_oldest_first_without_a_bump()
    {
        // OTP's debug-mode limit of 5: the 7 remembered names exceed it.
        var registry = new NodeRegistry(rememberLimit: NodeRegistry.DebugRememberLimit);
        var records = new int[7];
        for (int i = 0; i < 7; i++) records[i] = Register(registry, "old" + i, now: T0 + 10 * i);
        foreach (int r in records) registry.Unregister(r);
        Assert.That(registry.RememberedCount, Is.EqualTo(7));

        int taken = Register(registry, "newcomer", now: T0 + 5000);
        Assert.Multiple(() =>
        {
            Assert.That(taken, Is.EqualTo(records[0]), "the oldest remembered record is reused");
            Assert.That(registry[taken].Creation, Is.EqualTo((uint)(T0 + 1)), "old0's creation, not bumped, not the clock");
            Assert.That(Hex.Format(registry.Name(taken)), Is.EqualTo(Hex.Format("newcomer"u8)));
            Assert.That(registry.FindRegistered("newcomer"u8), Is.EqualTo(taken));
            Assert.That(registry.RememberedCount, Is.EqualTo(6));
            Assert.That(Remembered(registry), Is.EqualTo(new[] { "old1", "old2", "old3", "old4", "old5", "old6" }));
        });

        // old0 is forgotten: it is a new name now, and 6 > 5 remembered, so it takes over old1.
        int old0 = Register(registry, "old0", now: T0 + 6000);
        Assert.That(old0, Is.EqualTo(records[1]));
        Assert.That(registry[old0].Creation, Is.EqualTo((uint)(T0 + 11)));
        Assert.That(registry.RememberedCount, Is.EqualTo(5));

        // 5 remembered is not over the limit: a fresh record with a clock creation.
        int fresh = Register(registry, "fresh", now: T0 + 7000);
        Assert.That(records, Does.Not.Contain(fresh));
        Assert.That(registry[fresh].Creation, Is.EqualTo((uint)(T0 + 7001)));
        Assert.That(registry.RememberedCount, Is.EqualTo(5));

        // A remembered name still comes back bumped, from anywhere in the list.
        int old4 = Register(registry, "old4", now: T0 + 8000);
        Assert.That(old4, Is.EqualTo(records[4]));
        Assert.That(registry[old4].Creation, Is.EqualTo((uint)(T0 + 41 + 1)));
    }

    [Test]
    public void Taken_over_record_holds_a_longer_name_intact()
    {
        var registry = new NodeRegistry(rememberLimit: 1);
        int a = Register(registry, "a");
        int b = Register(registry, "b");
        registry.Unregister(a);
        registry.Unregister(b);
        var longName = TestBytes.Repeat("7a", 300);
        registry.Register(longName, TestBytes.Repeat("e1", 900), 1, 77, 0, 6, 5, 1, 1, T0, out int record);
        Assert.That(record, Is.EqualTo(a));
        Assert.That(registry.Name(record).ToArray(), Is.EqualTo(longName));
        Assert.That(registry.Extra(record).ToArray(), Is.EqualTo(TestBytes.Repeat("e1", 900)));
        Assert.That(registry.FindRegistered(longName), Is.EqualTo(record));
        Assert.That(registry.FindRegistered("a"u8), Is.EqualTo(-1));
        Assert.That(Hex.Format(registry.Name(b)), Is.EqualTo("62"));
    }

    [Test]
    public void Version_changes_on_register_and_unregister_only()
    {
        var registry = new NodeRegistry();
        long v0 = registry.Version;
        int a = Register(registry, "a");
        long v1 = registry.Version;
        Assert.That(v1, Is.Not.EqualTo(v0));
        registry.FindRegistered("a"u8);
        Register(registry, "a", out _);   // duplicate
        Assert.That(registry.Version, Is.EqualTo(v1));
        registry.Unregister(a);
        long v2 = registry.Version;
        Assert.That(v2, Is.Not.EqualTo(v1));
        Register(registry, "a");
        Assert.That(registry.Version, Is.Not.EqualTo(v2).And.Not.EqualTo(v1));
    }

    [Test]
    public void Grows_past_its_initial_capacity()
    {
        var registry = new NodeRegistry(initialCapacity: 1);
        var records = Enumerable.Range(0, 500).Select(i => Register(registry, "g" + i, owner: (ulong)i + 1)).ToList();
        for (int i = 0; i < 500; i++)
        {
            Assert.That(registry.FindRegistered(Encoding.UTF8.GetBytes("g" + i)), Is.EqualTo(records[i]));
            Assert.That(registry[records[i]].Owner, Is.EqualTo((ulong)i + 1));
        }
        Assert.That(Registered(registry).Count, Is.EqualTo(500));
    }
}
