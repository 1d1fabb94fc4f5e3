// The shim's kqueue file built against libkqueue (the kqueue API over epoll), loaded by path:
// ./build.sh libkqueue (a step of ./build.sh test) fetches libkqueue from Debian experimental into
// out/libkqueue and builds out/libkqueue/libfastepmd_kqueue.so. Its fe_kq_* functions are the
// shim's fe_kqueue.c, compiled with the kqueue code the BSD and macOS builds get.
using System.Runtime.InteropServices;
using FastEpmd.Interop;

namespace FastEpmd.Tests.Pollers;

internal static class Libkqueue
{
    public static string LibraryPath => Path.Combine(Binaries.RepoRoot, "out", "libkqueue", "libfastepmd_kqueue.so");

    private static readonly Lazy<KqueueCalls> s_calls = new(Load);

    /// <summary>The four fe_kq_* functions of the libkqueue build; a missing build fails with what to run.</summary>
    public static KqueueCalls Calls => s_calls.Value;

    private static KqueueCalls Load()
    {
        var path = LibraryPath;
        if (!File.Exists(path))
            throw new InvalidOperationException(
                $"{path} is missing: the kqueue runs of the loop suite need it. Run ./build.sh libkqueue " +
                "(a step of ./build.sh test: it fetches libkqueue 2.3.1 from Debian experimental into out/libkqueue " +
                "through a private apt state directory and compiles native-shim/src/fe_kqueue.c against it).");
        nint library = NativeLibrary.Load(path);
        return new KqueueCalls(
            NativeLibrary.GetExport(library, "fe_kq_create"),
            NativeLibrary.GetExport(library, "fe_kq_set"),
            NativeLibrary.GetExport(library, "fe_kq_remove"),
            NativeLibrary.GetExport(library, "fe_kq_wait"));
    }
}
