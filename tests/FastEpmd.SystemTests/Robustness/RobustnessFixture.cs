// Base for the robustness fixtures: everything a test opens (daemons, sockets, namespaces) is
// tracked and torn down in reverse order, also when the test fails half-way.
using System.Net.Sockets;

namespace FastEpmd.SystemTests.Robustness;

[Category("Robustness")]
[NonParallelizable]
public abstract class RobustnessFixture
{
    private readonly List<IDisposable> _owned = new();

    protected T Track<T>(T disposable) where T : IDisposable
    {
        lock (_owned) _owned.Add(disposable);
        return disposable;
    }

    protected List<Socket> Track(List<Socket> sockets)
    {
        Track(new Disposer(() => RawEpmdClient.DisposeAll(sockets)));
        return sockets;
    }

    private protected DaemonProcess StartFastEpmd(params string[] args)
    {
        try
        {
            return Track(DaemonProcess.StartFastEpmd(args));
        }
        catch (InvalidOperationException e)
        {
            // DaemonProcess.Start reports a daemon that exited at once as "No process is associated".
            throw new InvalidOperationException($"{Binaries.FastEpmd} {string.Join(' ', args)} did not start and listen " +
                "(does this binary accept these flags?): " + e.Message, e);
        }
    }

    protected static void Log(string line) => TestContext.Out.WriteLine(line);

    /// <summary>Polls condition every 20 ms; fails the test after timeout.</summary>
    protected static void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout) Assert.Fail("timed out waiting: " + what);
            Thread.Sleep(20);
        }
    }

    [TearDown]
    public void DisposeOwned()
    {
        List<IDisposable> owned;
        lock (_owned)
        {
            owned = new List<IDisposable>(_owned);
            _owned.Clear();
        }
        for (int i = owned.Count - 1; i >= 0; i--)
        {
            try
            {
                owned[i].Dispose();
            }
            catch (Exception e)
            {
                TestContext.Error.WriteLine("teardown: " + e.Message);
            }
        }
    }

    protected sealed class Disposer(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
