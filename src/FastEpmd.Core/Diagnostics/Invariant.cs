// The only way the process aborts on its own: an invariant of the code itself is broken, so going
// on would serve wrong answers. Bad input, a full table or missing memory never get here.
namespace FastEpmd.Diagnostics;

internal static class Invariant
{
    public static void Broken(string what) => Environment.FailFast("fastepmd: broken invariant: " + what);
}
