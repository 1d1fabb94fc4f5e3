// OTP's node "incarnation" counter (spec 2.4): seeded from the clock, bumped on reuse, and never
// 0..3 so that a 32-bit creation cannot be mistaken for an old 1..3 one.
namespace FastEpmd.Registry;

internal static class CreationNumbers
{
    public static uint Bump(uint creation)
    {
        uint next = unchecked(creation + 1);
        return next < 4 ? 4 : next;
    }

    /// <summary>A brand-new name: the clock in seconds, bumped (so: now + 1).</summary>
    public static uint Fresh(long unixSeconds) => Bump(unchecked((uint)unixSeconds));
}
