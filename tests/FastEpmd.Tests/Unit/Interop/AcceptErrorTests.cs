// accept4 errno classes: what each errno makes the accept path do.
using FastEpmd.Interop;
using Tmds.Linux;

namespace FastEpmd.Tests.Unit.Interop;

public class AcceptErrorTests
{
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
