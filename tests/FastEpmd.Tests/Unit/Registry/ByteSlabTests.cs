// The name/extra slab: size classes, no overlap, LIFO reuse, 1 MiB native chunks mapped on use, refusal.
using FastEpmd.Registry;

namespace FastEpmd.Tests.Unit.Registry;

public class ByteSlabTests
{
    [TestCase(1, 0)]
    [TestCase(4, 0)]
    [TestCase(16, 0)]
    [TestCase(17, 1)]
    [TestCase(32, 1)]
    [TestCase(33, 2)]
    [TestCase(1020, 6)]
    [TestCase(1024, 6)]
    [TestCase(2040, 7)]
    [TestCase(4096, 8)]
    public void Size_classes_are_powers_of_two_from_16(int length, int expected)
    {
        Assert.That(ByteSlab.ClassOf(length), Is.EqualTo(expected));
        Assert.That(ByteSlab.CapacityOf(expected), Is.GreaterThanOrEqualTo(length));
    }

    [Test]
    public void Blocks_do_not_overlap()
    {
        var slab = new ByteSlab(new RegistryMemory());
        var rng = new Random(7);
        var blocks = new List<(int Handle, int Length, byte Fill)>();
        for (int i = 0; i < 2000; i++)
        {
            int length = rng.Next(4, 4097);
            int handle = slab.Allocate(length, out _);
            byte fill = (byte)i;
            slab.Block(handle, length).Fill(fill);
            blocks.Add((handle, length, fill));
        }
        foreach (var (handle, length, fill) in blocks)
        {
            if (slab.Block(handle, length).IndexOfAnyExcept(fill) >= 0) Assert.Fail($"block {handle:x} was overwritten");
        }
    }

    [Test]
    public void Freed_block_is_reused_by_its_size_class_last_in_first_out()
    {
        var slab = new ByteSlab(new RegistryMemory());
        int a = slab.Allocate(10, out int classA);
        int b = slab.Allocate(12, out int classB);
        int big = slab.Allocate(100, out int classBig);
        Assert.That(classA, Is.EqualTo(classB));
        slab.Free(a, classA);
        slab.Free(b, classB);
        slab.Free(big, classBig);
        Assert.That(slab.Allocate(16, out _), Is.EqualTo(b));
        Assert.That(slab.Allocate(4, out _), Is.EqualTo(a));
        Assert.That(slab.Allocate(128, out _), Is.EqualTo(big));
        int fresh = slab.Allocate(16, out _);
        Assert.That(fresh, Is.Not.EqualTo(a).And.Not.EqualTo(b));
    }

    [Test]
    public void Reuse_does_not_grow_the_slab()
    {
        var slab = new ByteSlab(new RegistryMemory());
        int h = slab.Allocate(20, out int c);
        long reserved = slab.ReservedBytes;
        for (int i = 0; i < 100_000; i++)
        {
            slab.Free(h, c);
            h = slab.Allocate(20, out c);
        }
        Assert.That(slab.ReservedBytes, Is.EqualTo(reserved));
    }

    [Test]
    public void Chunks_are_1_MiB_mapped_on_first_use_and_a_block_never_straddles_two()
    {
        const int MiB = 1 << 20;
        var memory = new RegistryMemory();
        var slab = new ByteSlab(memory);
        Assert.That(slab.ReservedBytes, Is.EqualTo(0));
        Assert.That(memory.MappedBytes, Is.EqualTo(0), "nothing mapped before the first block");
        var handles = new List<int>();
        for (int i = 0; i < 256; i++) handles.Add(slab.Allocate(4096, out _));
        Assert.That(slab.ReservedBytes, Is.EqualTo(MiB));
        int small = slab.Allocate(16, out _);
        Assert.That(slab.ReservedBytes, Is.EqualTo(2 * MiB));
        // Chunk 2 now has 16 bytes used: 255 blocks of 4096 still fit, the 256th opens chunk 3
        // instead of running past the chunk end.
        for (int i = 0; i < 255; i++) slab.Allocate(4096, out _);
        Assert.That(slab.ReservedBytes, Is.EqualTo(2 * MiB));
        slab.Allocate(4096, out _);
        Assert.That(slab.ReservedBytes, Is.EqualTo(3 * MiB));
        Assert.That(memory.MappedBytes, Is.EqualTo(3 * MiB));
        Assert.That(slab.Block(small, 16).Length, Is.EqualTo(16));
        foreach (int h in handles) Assert.That(slab.Block(h, 4096).Length, Is.EqualTo(4096));
    }

    [Test]
    public void A_refused_chunk_is_minus_one_and_the_slab_still_serves_freed_blocks()
    {
        var memory = new RegistryMemory(limitBytes: 1 << 20);
        var slab = new ByteSlab(memory);
        var handles = new List<int>();
        for (int i = 0; i < 512; i++) handles.Add(slab.Allocate(2040, out _));
        Assert.That(handles, Has.None.EqualTo(-1));
        Assert.That(slab.Allocate(2040, out _), Is.EqualTo(-1), "the 513th 2 KiB block needs a second chunk, past the limit");
        Assert.That(memory.Failures, Is.EqualTo(1));
        Assert.That(memory.LastErrno, Is.EqualTo(FastEpmd.Interop.Errno.ENOMEM));
        slab.Free(handles[7], ByteSlab.ClassOf(2040));
        Assert.That(slab.Allocate(2040, out _), Is.EqualTo(handles[7]));
    }
}
