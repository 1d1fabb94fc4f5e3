// The native shim as loaded: ABI version, struct size, rlimit calls, kqueue stubs on Linux.
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
        Assert.That(Shim.SizeOfPollEvent(), Is.EqualTo(sizeof(NativePollEvent)));
        Assert.That(sizeof(NativePollEvent), Is.EqualTo(16));
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
