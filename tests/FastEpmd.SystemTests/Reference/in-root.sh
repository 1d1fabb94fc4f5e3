#!/bin/sh
# in-root.sh ROOT PROGRAM [ARGS...]: runs PROGRAM of the Debian root ROOT (a debootstrap tree that
# ./build.sh test caches under out/nspawn/) in a chroot, as that release's own binaries run.
# The chroot sees the host's /proc, /dev, /tmp and /etc/hosts through bind mounts made in a mount
# namespace of its own: they vanish with the program's last process, so nothing is left mounted
# on the host, whatever happens to the test. Every step execs: the PID a test holds is PROGRAM's.
# IN_ROOT_BIND="DIR..." also shows each host DIR at the same path in the root (its mount point is
# made in the root once).
set -eu
root=${1:?usage: in-root.sh ROOT PROGRAM [ARGS...]}
shift
[ -x "$root/usr/bin/env" ] || { echo "in-root.sh: no Debian root at $root (./build.sh test makes it)" >&2; exit 127; }
exec unshare --mount --propagation private /bin/sh -c '
    set -e
    r=$1; shift
    mount --bind /proc "$r/proc"
    mount --rbind /dev "$r/dev"
    mount --bind /tmp "$r/tmp"
    [ -e "$r/etc/hosts" ] || : >"$r/etc/hosts"   # debootstrap makes none
    mount --bind /etc/hosts "$r/etc/hosts"
    for d in ${IN_ROOT_BIND:-}; do
        mkdir -p "$r$d"
        mount --bind "$d" "$r$d"
    done
    exec chroot "$r" "$@"' in-root "$root" "$@"
