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
