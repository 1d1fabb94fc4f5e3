// The registry in native memory: a registration whose memory is refused (a byte limit here, an
// address-space limit or a failing mmap in the daemon) is NoMemory with nothing changed, every
// other registration stays, and a remembered name's block is freed only after its new one is stored.
using System.Text;
using FastEpmd.Registry;

namespace FastEpmd.Tests.Unit.Registry;

public class NodeRegistryMemoryTests
{
    private const long T0 = 1_700_000_000;

    // One chunk of records (1,024 x 64 B), one page of index entries (256 names), one 1 MiB chunk of name blocks.
    private const long OneChunkEach = (64 << 10) + 4096 + (1 << 20);

    // The same with room for the index to double once (8 KiB mapped while the 4 KiB one is copied).
    private const long Limit = OneChunkEach + 8192;

    private static readonly byte[] LargestExtra = Enumerable.Range(0, 1020).Select(i => (byte)i).ToArray();

    /// <summary>A 255-code-point name of 1,020 bytes (4-byte characters), distinct per i.</summary>
    private static byte[] LargestName(int i)
    {
        var name = new StringBuilder();
        for (int c = 0; c < 255; c++) name.Append(char.ConvertFromUtf32(0x10000 + (c == 0 ? i : c)));
        return Encoding.UTF8.GetBytes(name.ToString());
    }

    private static RegisterStatus Register(NodeRegistry registry, byte[] name, byte[] extra, out int record, ulong owner = 1) =>
        registry.Register(name, extra, 4000, 77, 0, 6, 5, owner, 7, T0, out record);

    [Test]
    public void A_registration_past_the_memory_is_refused_and_every_other_one_stays()
    {
        var memory = new RegistryMemory(Limit);
        var registry = new NodeRegistry(memory: memory);
        var held = new List<byte[]>();
        RegisterStatus status;
        do
        {
            var name = LargestName(held.Count);
            status = Register(registry, name, LargestExtra, out _, owner: (ulong)held.Count + 1);
            if (status == RegisterStatus.Registered) held.Add(name);
        }
        while (status == RegisterStatus.Registered && held.Count < 10_000);

        Assert.That(status, Is.EqualTo(RegisterStatus.NoMemory));
        Assert.That(held, Has.Count.EqualTo(512), "1 MiB holds 512 blocks of 2 KiB");
        Assert.That(memory.LastErrno, Is.EqualTo(FastEpmd.Interop.Errno.ENOMEM));
        long version = registry.Version;
        Assert.That(Register(registry, LargestName(9999), LargestExtra, out _), Is.EqualTo(RegisterStatus.NoMemory), "still refused, nothing changed");
        Assert.That(registry.Version, Is.EqualTo(version));
        Assert.That(registry.RegisteredCount, Is.EqualTo(512));
        foreach (var name in held)
        {
            int record = registry.FindRegistered(name);
            Assert.That(record, Is.GreaterThanOrEqualTo(0));
            Assert.That(registry.Name(record).ToArray(), Is.EqualTo(name));
            Assert.That(registry.Extra(record).ToArray(), Is.EqualTo(LargestExtra));
        }
        // A refusal poisons nothing: a remembered name comes back in its own block.
        registry.Unregister(registry.FindRegistered(held[0]));
        Assert.That(Register(registry, held[0], LargestExtra, out int back), Is.EqualTo(RegisterStatus.Registered));
        Assert.That(registry.Name(back).ToArray(), Is.EqualTo(held[0]));
    }

    [Test]
    public void A_remembered_name_whose_larger_block_is_refused_keeps_its_own_bytes()
    {
        var registry = new NodeRegistry(memory: new RegistryMemory(Limit));
        // 1,020 bytes in a 1 KiB block; after it, 511 blocks of 2 KiB fill the chunk but for 1 KiB.
        var small = LargestName(7777);
        Assert.That(Register(registry, small, [], out int record), Is.EqualTo(RegisterStatus.Registered));
        uint creation = registry[record].Creation;
        int i = 0;
        while (Register(registry, LargestName(i), LargestExtra, out _, owner: 100 + (ulong)i) == RegisterStatus.Registered) i++;
        registry.Unregister(record);

        // Its bytes now need a 2 KiB block, and none can be had: refused, and the record still
        // points at its own 1 KiB block, never at a freed one.
        Assert.That(Register(registry, small, LargestExtra, out _), Is.EqualTo(RegisterStatus.NoMemory));
        Assert.That(registry.FirstRemembered, Is.EqualTo(record));
        Assert.That(registry.Name(record).ToArray(), Is.EqualTo(small));
        Assert.That(registry.FindRegistered(small), Is.EqualTo(-1));

        Assert.That(Register(registry, small, [0x42], out int again), Is.EqualTo(RegisterStatus.Registered));
        Assert.That(again, Is.EqualTo(record));
        Assert.That(registry[again].Creation, Is.EqualTo(CreationNumbers.Bump(creation)));
        Assert.That(registry.Extra(again).ToArray(), Is.EqualTo(new byte[] { 0x42 }));
    }

    [Test]
    public void Nothing_is_mapped_until_the_first_registration()
    {
        var memory = new RegistryMemory();
        var registry = new NodeRegistry(memory: memory);
        Assert.That(registry.FindRegistered("x"u8), Is.EqualTo(-1));
        Assert.That(memory.MappedBytes, Is.EqualTo(0));
        Assert.That(Register(registry, "x"u8.ToArray(), [], out _), Is.EqualTo(RegisterStatus.Registered));
        Assert.That(memory.MappedBytes, Is.EqualTo(OneChunkEach));
    }
}
