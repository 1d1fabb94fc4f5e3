// Errno's static copies against Tmds.LibC, strerror text, and the classifiers.
using FastEpmd.Interop;
using Tmds.Linux;

namespace FastEpmd.Tests.Unit.Interop;

public class ErrnoTests
{
    private static IEnumerable<TestCaseData> Copies()
    {
        yield return new TestCaseData(Errno.EINTR, LibC.EINTR).SetName("EINTR");
        yield return new TestCaseData(Errno.EAGAIN, LibC.EAGAIN).SetName("EAGAIN");
        yield return new TestCaseData(Errno.EWOULDBLOCK, LibC.EWOULDBLOCK).SetName("EWOULDBLOCK");
        yield return new TestCaseData(Errno.ECONNRESET, LibC.ECONNRESET).SetName("ECONNRESET");
        yield return new TestCaseData(Errno.ECONNABORTED, LibC.ECONNABORTED).SetName("ECONNABORTED");
        yield return new TestCaseData(Errno.EPIPE, LibC.EPIPE).SetName("EPIPE");
        yield return new TestCaseData(Errno.EIO, LibC.EIO).SetName("EIO");
        yield return new TestCaseData(Errno.EMFILE, LibC.EMFILE).SetName("EMFILE");
        yield return new TestCaseData(Errno.ENFILE, LibC.ENFILE).SetName("ENFILE");
        yield return new TestCaseData(Errno.ENOBUFS, LibC.ENOBUFS).SetName("ENOBUFS");
        yield return new TestCaseData(Errno.ENOMEM, LibC.ENOMEM).SetName("ENOMEM");
        yield return new TestCaseData(Errno.EADDRINUSE, LibC.EADDRINUSE).SetName("EADDRINUSE");
        yield return new TestCaseData(Errno.EAFNOSUPPORT, LibC.EAFNOSUPPORT).SetName("EAFNOSUPPORT");
        yield return new TestCaseData(Errno.EPROTONOSUPPORT, LibC.EPROTONOSUPPORT).SetName("EPROTONOSUPPORT");
        yield return new TestCaseData(Errno.EADDRNOTAVAIL, LibC.EADDRNOTAVAIL).SetName("EADDRNOTAVAIL");
        yield return new TestCaseData(Errno.ENOSYS, LibC.ENOSYS).SetName("ENOSYS");
        yield return new TestCaseData(Errno.ETIMEDOUT, LibC.ETIMEDOUT).SetName("ETIMEDOUT");
        yield return new TestCaseData(Errno.EINVAL, LibC.EINVAL).SetName("EINVAL");
        yield return new TestCaseData(Errno.ENOTSOCK, LibC.ENOTSOCK).SetName("ENOTSOCK");
        yield return new TestCaseData(Errno.EBADF, LibC.EBADF).SetName("EBADF");
        yield return new TestCaseData(Errno.EPERM, LibC.EPERM).SetName("EPERM");
        yield return new TestCaseData(Errno.EPROTO, LibC.EPROTO).SetName("EPROTO");
        yield return new TestCaseData(Errno.ENOPROTOOPT, LibC.ENOPROTOOPT).SetName("ENOPROTOOPT");
        yield return new TestCaseData(Errno.EHOSTDOWN, LibC.EHOSTDOWN).SetName("EHOSTDOWN");
        yield return new TestCaseData(Errno.ENONET, LibC.ENONET).SetName("ENONET");
        yield return new TestCaseData(Errno.EHOSTUNREACH, LibC.EHOSTUNREACH).SetName("EHOSTUNREACH");
        yield return new TestCaseData(Errno.EOPNOTSUPP, LibC.EOPNOTSUPP).SetName("EOPNOTSUPP");
        yield return new TestCaseData(Errno.ENETDOWN, LibC.ENETDOWN).SetName("ENETDOWN");
        yield return new TestCaseData(Errno.ENETUNREACH, LibC.ENETUNREACH).SetName("ENETUNREACH");
        yield return new TestCaseData(Errno.EMSGSIZE, LibC.EMSGSIZE).SetName("EMSGSIZE");
        yield return new TestCaseData(Errno.ECONNREFUSED, LibC.ECONNREFUSED).SetName("ECONNREFUSED");
        yield return new TestCaseData(Errno.ENOENT, LibC.ENOENT).SetName("ENOENT");
        yield return new TestCaseData(Errno.EACCES, LibC.EACCES).SetName("EACCES");
        yield return new TestCaseData(Errno.EEXIST, LibC.EEXIST).SetName("EEXIST");
    }

    [TestCaseSource(nameof(Copies))]
    public void Copy_equals_LibC(int copy, int libc)
    {
        Assert.That(copy, Is.EqualTo(libc));
        Assert.That(copy, Is.GreaterThan(0));
    }

    [Test]
    public void Every_public_field_is_checked()
    {
        var fields = typeof(Errno).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.FieldType == typeof(int)).Select(f => f.Name);
        Assert.That(fields, Is.EquivalentTo(Copies().Select(c => c.TestName)));
    }

    [Test]
    public void Describe_gives_strerror_text()
    {
        Assert.That(Errno.Describe(LibC.ECONNRESET), Is.EqualTo("Connection reset by peer"));
        Assert.That(Errno.Describe(LibC.EMFILE), Is.EqualTo("Too many open files"));
        Assert.That(Errno.Describe(LibC.EADDRINUSE), Is.EqualTo("Address already in use"));
        Assert.That(Errno.Describe(LibC.EAGAIN), Is.EqualTo("Resource temporarily unavailable"));
    }

    [Test]
    public void Describe_of_an_unknown_errno_is_still_text()
    {
        Assert.That(Errno.Describe(99999), Does.Contain("99999"));
    }

    [Test]
    public unsafe void Last_is_the_errno_of_the_last_call()
    {
        Assert.That(LibC.close(-1), Is.EqualTo(-1));
        Assert.That(Errno.Last, Is.EqualTo(LibC.EBADF));
    }

    [Test]
    public void Classifiers()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Errno.IsWouldBlock(LibC.EAGAIN), Is.True);
            Assert.That(Errno.IsWouldBlock(LibC.EINTR), Is.False);
            Assert.That(Errno.IsPeerGone(LibC.ECONNRESET), Is.True);
            Assert.That(Errno.IsPeerGone(LibC.EPIPE), Is.True);
            Assert.That(Errno.IsPeerGone(LibC.EAGAIN), Is.False);
            Assert.That(Errno.IsOutOfDescriptors(LibC.EMFILE), Is.True);
            Assert.That(Errno.IsOutOfDescriptors(LibC.ENFILE), Is.True);
            Assert.That(Errno.IsOutOfDescriptors(LibC.ECONNABORTED), Is.False);
        });
    }

    [Test]
    public void ErrnoException_carries_operation_code_and_text()
    {
        var e = new ErrnoException("bind", LibC.EADDRINUSE);
        Assert.That(e.Message, Is.EqualTo("bind: Address already in use"));
        Assert.That(e.Code, Is.EqualTo(LibC.EADDRINUSE));
    }
}
