// A daemon's start under qemu costs about a CPU-second (native: a few milliseconds), so fewer tests
// run side by side than in FastEpmd.SystemTests (16): most still spend their time waiting on timeouts.
[assembly: LevelOfParallelism(6)]

// Every test in this assembly, the linked system tests included, runs the arm64 binary: FASTEPMD_BIN
// is the qemu wrapper, whatever the environment says (the project exists to test that build).
[SetUpFixture]
public class Arm64Setup
{
    [OneTimeSetUp]
    public void UseTheArm64Binary()
    {
        FastEpmd.Arm64Tests.Arm64Emulation.RequireBuild();
        Environment.SetEnvironmentVariable("FASTEPMD_BIN", FastEpmd.Arm64Tests.Arm64Emulation.Wrapper);
    }
}
