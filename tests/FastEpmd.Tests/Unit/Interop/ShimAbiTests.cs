// The native shim as loaded: ABI version, struct layouts against C's, rlimit calls, kqueue stubs on Linux.
// The arm64 binary's layouts are checked under qemu (SystemTests Arm64/Arm64AbiTests).
using System.Runtime.InteropServices;
using FastEpmd.Interop;
using FastEpmd.Poller;
using Tmds.Linux;

namespace FastEpmd.Tests.Unit.Interop;

public unsafe class ShimAbiTests
{
    [Test]
    public void Abi_check_passes()
    {
        Assert.DoesNotThrow(Shim.CheckAbi);
        Assert.That(Shim.AbiVersion(), Is.EqualTo(Shim.ExpectedAbiVersion));
    }

    [Test]
    public void Every_shared_struct_is_laid_out_as_C_lays_it_out()
    {
        var managed = StructLayouts.Managed();
        var native = StructLayouts.Native();
        foreach (var row in native) TestContext.Out.WriteLine($"{row.Name} {row.Value}");
        Assert.That(native, Has.Length.EqualTo(32), "fe_poll_event and nine libc structs, sizes and fields");
        Assert.That(managed.Select(r => r.Name), Is.EqualTo(native.Select(r => r.Name)));
        Assert.That(StructLayouts.Differences(managed, native), Is.Empty);
        Assert.That(managed.Where(r => r.Name.Contains('.')).Select(r => r.Value), Has.None.Negative, "every field found");
    }

    [Test]
    public void Epoll_event_is_packed_on_x86_64_and_not_on_arm64()
    {
        var rows = StructLayouts.Native().ToDictionary(r => r.Name, r => r.Value);
        var (size, data) = RuntimeInformation.ProcessArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => (12, 4),
            System.Runtime.InteropServices.Architecture.Arm64 => (16, 8),
            var other => throw new InconclusiveException($"no expectation for {other}"),
        };
        Assert.That((rows["epoll_event"], rows["epoll_event.data"]), Is.EqualTo((size, data)));
        Assert.That((sizeof(epoll_event), StructLayouts.Managed().Single(r => r.Name == "epoll_event.data").Value), Is.EqualTo((size, data)));
    }

    [Test]
    public void A_layout_difference_is_named()
    {
        var native = StructLayouts.Native();
        int data = native.Single(r => r.Name == "epoll_event.data").Value;
        var wrong = StructLayouts.Managed().Select(r => r.Name == "epoll_event.data" ? r.WithValue(data + 4) : r).ToArray();
        Assert.That(StructLayouts.Differences(wrong, native), Is.EqualTo(new[] { $"epoll_event.data: C# {data + 4}, C {data}" }));
        Assert.That(StructLayouts.Differences(wrong[..^1], native),
            Is.EqualTo(new[] { $"epoll_event.data: C# {data + 4}, C {data}", "stat.st_size: not in C#" }));
    }

    [Test]
    public void Nofile_limit_is_sane()
    {
        long soft = -1, hard = -1;
        Assert.That(Shim.GetNofileLimit(&soft, &hard), Is.EqualTo(0));
        Assert.That(soft, Is.GreaterThanOrEqualTo(64));
        Assert.That(hard, Is.GreaterThanOrEqualTo(soft));
        // This process has descriptors open, so the limit is above the highest of them.
        int fd = LibC.dup(0);
        try
        {
            Assert.That(fd, Is.GreaterThanOrEqualTo(0).And.LessThan(soft));
        }
        finally
        {
            LibC.close(fd);
        }
    }

    [Test]
    public void Setting_the_soft_limit_to_itself_succeeds()
    {
        long soft, hard;
        Shim.GetNofileLimit(&soft, &hard);
        Assert.That(Shim.SetNofileLimit(soft), Is.EqualTo(0));
        long after, hardAfter;
        Shim.GetNofileLimit(&after, &hardAfter);
        Assert.That(after, Is.EqualTo(soft));
    }

    [Test]
    public void Setting_the_soft_limit_above_the_hard_one_is_EINVAL()
    {
        long soft, hard;
        Shim.GetNofileLimit(&soft, &hard);
        if (hard == long.MaxValue) Assert.Pass("hard limit is unlimited here; nothing is above it");
        Assert.That(Shim.SetNofileLimit(hard + 1), Is.EqualTo(-LibC.EINVAL).Or.EqualTo(-LibC.EPERM));
    }

    [Test]
    public void Kqueue_calls_are_ENOSYS_on_linux()
    {
        int enosys = -LibC.ENOSYS;
        Assert.That(Shim.KqueueCreate(), Is.EqualTo(enosys));
        Assert.That(Shim.KqueueSet(3, 4, 5, 1), Is.EqualTo(enosys));
        Assert.That(Shim.KqueueRemove(3, 4), Is.EqualTo(enosys));
        NativePollEvent events = default;
        Assert.That(Shim.KqueueWait(3, &events, 1, 0), Is.EqualTo(enosys));
        Assert.That(KqueuePoller.IsSupported, Is.False);
        var e = Assert.Throws<ErrnoException>(() => new KqueuePoller().Dispose());
        Assert.That(e!.Code, Is.EqualTo(LibC.ENOSYS));
    }

    [TestCase(1024L, 960)]
    [TestCase(64L, 16)]
    [TestCase(10L, 16)]
    [TestCase(20_000L, 19_936)]
    [TestCase(65_600L, 65_536)]
    [TestCase(65_601L, 65_536)]
    [TestCase(1_048_576L, 65_536)]
    [TestCase(long.MaxValue, 65_536)]
    public void Table_size_follows_the_soft_limit_up_to_65536(long soft, int expected)
    {
        Assert.That(DescriptorLimit.TableSizeFor(soft), Is.EqualTo(expected));
    }
}
