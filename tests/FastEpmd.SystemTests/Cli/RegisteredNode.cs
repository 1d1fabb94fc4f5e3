// A node registration held open over a raw ALIVE2 connection, as a real node holds it.
namespace FastEpmd.SystemTests.Cli;

internal sealed class RegisteredNode : IDisposable
{
    private readonly RawEpmdClient _connection;

    public string Name { get; }

    private RegisteredNode(RawEpmdClient connection, string name)
    {
        _connection = connection;
        Name = name;
    }

    public static RegisteredNode Register(DaemonProcess daemon, string name, int port)
    {
        var connection = daemon.Connect();
        connection.Send(Requests.Alive(name, port));
        var reply = connection.ReadExactly(6);
        if (reply.Length != 6 || reply[0] != 0x76 || reply[1] != 0)
        {
            connection.Dispose();
            throw new InvalidOperationException($"registering {name} got [{Hex.Format(reply)}]");
        }
        return new RegisteredNode(connection, name);
    }

    /// <summary>Closes the connection and waits (bounded) until NAMES no longer lists the node.</summary>
    public void CloseAndWaitGone(DaemonProcess daemon)
    {
        _connection.Dispose();
        var line = Hex.Utf8($"name {Name} at port ");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            var names = daemon.Request(Requests.Names).Data;
            if (names.AsSpan().IndexOf(line) < 0) return;
            Thread.Sleep(20);
        }
        throw new TimeoutException($"{Name} still registered 5 s after its connection closed");
    }

    public void Dispose() => _connection.Dispose();
}
