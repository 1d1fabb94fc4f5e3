// Decode of every request and encode of every reply (FastEpmd.Wire).
using BenchmarkDotNet.Attributes;
using FastEpmd.Wire;

namespace FastEpmd.Benchmarks;

[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class WireBenchmarks
{
    private const int Ops = BenchConfig.Ops;
    private readonly byte[] _reply = new byte[Limits.MaxSmallReply];
    private readonly byte[] _line = new byte[NamesReply.MaxLineLength];

    private static int Framed(byte[] frame)
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++)
        {
            if (Frame.TryRead(frame, out var request) == FrameStatus.Complete) sum += request.Length;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int DecodeFrame_PortPlease2() => Framed(Frames.PortPlease2);

    [Benchmark(OperationsPerInvoke = Ops)]
    public int DecodeFrame_Names() => Framed(Frames.Names);

    [Benchmark(OperationsPerInvoke = Ops)]
    public int DecodeFrame_Alive2() => Framed(Frames.Alive2);

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Decode_Alive2()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++)
        {
            if (AliveRequest.TryParse(Frames.Payload(Frames.Alive2), out var alive) == AliveParseStatus.Ok) sum += alive.Port + alive.Name.Length;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Decode_PortPlease2()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++)
        {
            if (PortPleaseRequest.TryParse(Frames.Payload(Frames.PortPlease2), out var name)) sum += name.Length;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Decode_Stop()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++)
        {
            if (StopRequest.TryParse(Frames.Payload(Frames.Stop), out var name)) sum += name.Length;
        }
        return sum;
    }

    /// <summary>NAMES, DUMP and KILL carry only their tag: decoding them is the frame check.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int Decode_NamesDumpKill() => Framed(Frames.Names) + Framed(Frames.Dump) + Framed(Frames.Kill);

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Encode_Alive2XResp()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++) sum += AliveReply.WriteSuccess(_reply, 6, (uint)i + 4);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Encode_Alive2Resp()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++) sum += AliveReply.WriteSuccess(_reply, 5, (uint)i + 4);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Encode_Alive2Refused()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++) sum += AliveReply.WriteRefused(_reply, 6);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Encode_Port2RespFound()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++)
            sum += PortPleaseReply.WriteFound(_reply, Frames.NodePort, 77, 0, 6, 5, Frames.NodeName, ReadOnlySpan<byte>.Empty);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Encode_Port2RespNotFound()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++) sum += PortPleaseReply.WriteNotFound(_reply);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Encode_NamesHeaderAndLine()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++)
            sum += NamesReply.WriteHeader(_reply, 4369) + NamesReply.WriteNameLine(_line, Frames.NodeName, 40000 + i);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Encode_DumpLines()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++)
        {
            sum += NamesReply.WriteActiveDumpLine(_line, Frames.NodeName, 40000 + i, 7);
            sum += NamesReply.WriteUnusedDumpLine(_line, Frames.NodeName, 40000 + i, 7);
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Encode_KillStopReplies()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++)
        {
            ShortReplies.KillAccepted.CopyTo(_reply);
            ShortReplies.NotFoundThenStopped.CopyTo(_reply);
            sum += _reply[i & 7];
        }
        return sum;
    }
}
