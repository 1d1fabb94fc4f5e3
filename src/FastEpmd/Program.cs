// fastepmd: parse OTP epmd's command line, then run the daemon or a client command.
namespace FastEpmd;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.Error.WriteLine("fastepmd: not yet");
        return args.Length;
    }
}
