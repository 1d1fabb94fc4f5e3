// Every end-to-end test starts its own daemon on its own port, so tests run side by side.
// Most of a test's time is spent waiting for a timeout, not on CPU: run more workers than cores.
[assembly: LevelOfParallelism(16)]
