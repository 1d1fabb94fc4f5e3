// accept4 errno classes: what each errno makes the accept path do.
using FastEpmd.Interop;
using Tmds.Linux;

namespace FastEpmd.Tests.Unit.Interop;

public class AcceptErrorTests
{
    [Test]
    public void Copies_equal_LibC()
    {
        Assert.Multiple(() =>
        {
            Assert.That(AcceptError.EINVAL, Is.EqualTo(LibC.EINVAL));
            Assert.That(AcceptError.ENOTSOCK, Is.EqualTo(LibC.ENOTSOCK));
            Assert.That(AcceptError.EBADF, Is.EqualTo(LibC.EBADF));
            Assert.That(AcceptError.EPERM, Is.EqualTo(LibC.EPERM));
            Assert.That(AcceptError.EPROTO, Is.EqualTo(LibC.EPROTO));
            Assert.That(AcceptError.ENOPROTOOPT, Is.EqualTo(LibC.ENOPROTOOPT));
            Assert.That(AcceptError.EHOSTDOWN, Is.EqualTo(LibC.EHOSTDOWN));
            Assert.That(AcceptError.ENONET, Is.EqualTo(LibC.ENONET));
            Assert.That(AcceptError.EHOSTUNREACH, Is.EqualTo(LibC.EHOSTUNREACH));
            Assert.That(AcceptError.EOPNOTSUPP, Is.EqualTo(LibC.EOPNOTSUPP));
            Assert.That(AcceptError.ENETDOWN, Is.EqualTo(LibC.ENETDOWN));
            Assert.That(AcceptError.ENETUNREACH, Is.EqualTo(LibC.ENETUNREACH));
        });
    }

    private static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(LibC.EAGAIN, (int)AcceptErrorKind.QueueEmpty).SetName("EAGAIN queue empty");
        yield return new TestCaseData(LibC.EINTR, (int)AcceptErrorKind.Interrupted).SetName("EINTR interrupted");
        yield return new TestCaseData(LibC.ECONNABORTED, (int)AcceptErrorKind.Interrupted).SetName("ECONNABORTED interrupted");
        yield return new TestCaseData(LibC.EMFILE, (int)AcceptErrorKind.OutOfResources).SetName("EMFILE out of resources");
        yield return new TestCaseData(LibC.ENFILE, (int)AcceptErrorKind.OutOfResources).SetName("ENFILE out of resources");
        yield return new TestCaseData(LibC.ENOBUFS, (int)AcceptErrorKind.OutOfResources).SetName("ENOBUFS out of resources");
        yield return new TestCaseData(LibC.ENOMEM, (int)AcceptErrorKind.OutOfResources).SetName("ENOMEM out of resources");
        yield return new TestCaseData(LibC.EINVAL, (int)AcceptErrorKind.NotAListener).SetName("EINVAL not a listener");
        yield return new TestCaseData(LibC.ENOTSOCK, (int)AcceptErrorKind.NotAListener).SetName("ENOTSOCK not a listener");
        yield return new TestCaseData(LibC.EBADF, (int)AcceptErrorKind.NotAListener).SetName("EBADF not a listener");
        yield return new TestCaseData(LibC.EPROTO, (int)AcceptErrorKind.PendingConnectionError).SetName("EPROTO pending error");
        yield return new TestCaseData(LibC.EOPNOTSUPP, (int)AcceptErrorKind.PendingConnectionError).SetName("EOPNOTSUPP pending error");
        yield return new TestCaseData(LibC.ENETUNREACH, (int)AcceptErrorKind.PendingConnectionError).SetName("ENETUNREACH pending error");
        yield return new TestCaseData(LibC.EPERM, (int)AcceptErrorKind.PendingConnectionError).SetName("EPERM pending error");
        yield return new TestCaseData(LibC.EACCES, (int)AcceptErrorKind.Persistent).SetName("EACCES persistent");
        yield return new TestCaseData(LibC.EFAULT, (int)AcceptErrorKind.Persistent).SetName("EFAULT persistent");
        yield return new TestCaseData(LibC.EIO, (int)AcceptErrorKind.Persistent).SetName("EIO persistent");
    }

    [TestCaseSource(nameof(Cases))]
    public void Classify(int errno, int expected) =>
        Assert.That((int)AcceptError.Classify(errno), Is.EqualTo(expected), ((AcceptErrorKind)expected).ToString());

    [Test]
    public void Only_interruptions_and_a_queued_connections_errors_are_retried_at_once()
    {
        foreach (var kind in Enum.GetValues<AcceptErrorKind>())
        {
            bool expected = kind is AcceptErrorKind.Interrupted or AcceptErrorKind.PendingConnectionError;
            Assert.That(AcceptError.RetryAtOnce(kind), Is.EqualTo(expected), kind.ToString());
        }
    }
}
