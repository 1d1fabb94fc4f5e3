// The system tests drive Linux binaries, /proc, network namespaces and Unix sockets.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
