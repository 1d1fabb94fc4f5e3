// Out of descriptors (EMFILE/ENFILE) at accept: shed what is queued instead of exiting or spinning.
namespace FastEpmd.Reactor;

internal sealed partial class EpmdReactor
{
    /// <summary>At most this many queued connections are shed per exhaustion.</summary>
    private const int ShedLimit = 4096;

    private int _spareFd;

    /// <summary>
    /// OTP exits here and every registration on the host is lost. We give up the spare descriptor,
    /// accept and close what is queued (so the listener stops being readable and the loop does not
    /// spin), then take the spare back. Without a spare the listeners pause briefly.
    /// False when not even one connection could be shed: the spare does not cure this error (a
    /// lasting ENOMEM, say), so the caller backs the listener off instead.
    /// </summary>
    private bool ShedWithoutDescriptors(int listenFd, int errno)
    {
        int shed = 0;
        if (_spareFd >= 0)
        {
            SocketIo.Close(_spareFd);
            _spareFd = -1;
            for (; shed < ShedLimit; shed++)
            {
                int fd = Listener.Accept(listenFd, out _);
                if (fd < 0) break;
                SocketIo.Close(fd);
                Counters.DroppedForNoDescriptors++;
            }
            _spareFd = Listener.OpenSpare();
            if (shed == 0 && _spareFd >= 0) return false;
        }
        if (_log.On(0)) _log.Write(0, "accept: " + Interop.Errno.Describe(errno) + "; shed " + shed + " queued connections");
        if (_spareFd < 0) PauseListeners();
        return true;
    }
}
