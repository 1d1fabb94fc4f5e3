#!/usr/bin/env bash
# Runs OTP's epmd_SUITE, unmodified, against the epmd binary BIN:
#   tests/OtpSuite/run.sh BIN [OUTDIR]
# The suite comes from Debian's source package (fetch.sh). Around it only: OTP's ts_install_cth hook
# compiled from the same source, a wrapper named `epmd` that execs BIN first on the emulator's PATH
# (erlexec puts its own erts bin folder, with OTP's epmd, first; -env PATH overrides that), and
# ct:run_test from a non-distributed erl (ct_run would start a system epmd).
# Environment:
#   OTP_SUITE_ROOT=DIR   run erl, erlc, ssh and common_test of that Debian root (out/nspawn/trixie:
#                        Debian 13's OTP 27) instead of the host's, through the system tests'
#                        in-root.sh; the repository's out/ folder is seen at the same path in it.
#                        BIN is then a path in the root (/usr/bin/epmd is the root's) or under out/.
#   OTP_SUITE_CASES="a b"  only these cases (the non-local control runs), else the whole suite.
# The suite binds its daemons to the fixed port 2243, so it runs in a network namespace of its own
# with only loopback up: concurrent runs cannot meet, and nothing on the host is touched.
# no_nonlocal_register and no_nonlocal_kill need an ssh_proxy_host: an sshd (the host's
# openssh-server) in a second namespace of this run, linked to the suite's by a veth pair. The
# suite runs `ssh -L 2244:nohost:2243 HOST read` (nohost: a non-distributed node's host part);
# in the sshd's namespace nohost is the suite namespace's veth address, so the forwarded
# connections reach the daemon from a non-local address. Keys are made for this run in OUTDIR/ssh.
# Writes OUTDIR/results.tsv (case, result, seconds, reason) and prints one line per case.
# Exit 0 when no case failed.
set -euo pipefail
given=${1:?usage: run.sh BIN [OUTDIR]}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
root=${OTP_SUITE_ROOT:-}
if [ -n "$root" ]; then
    root=$(readlink -f "$root")
    # A path in the root (not resolved on the host: /usr/bin/epmd is the root's), or one under out/.
    case "$given" in /*) bin=$given ;; *) bin=$(readlink -f "$given") ;; esac
    [ -x "$root$bin" ] || [ -x "$bin" ] || { echo "run.sh: $bin is not executable" >&2; exit 2; }
    in_root=(env IN_ROOT_BIND="$repo/out" "$repo/tests/FastEpmd.SystemTests/Reference/in-root.sh" "$root")
else
    bin=$(readlink -f "$given")
    [ -x "$bin" ] || { echo "run.sh: $bin is not executable" >&2; exit 2; }
    in_root=()
fi
suite=$("$here/fetch.sh")
out=${2:-$repo/out/otp-suite/run}
out=$(mkdir -p "$out" && cd "$out" && pwd)
rm -rf "${out:?}"/*
mkdir -p "$out/ebin" "$out/bin" "$out/logs" "$out/ssh" "$out/src"
# The suite's source where the root's erlc sees it (out/ is bound there).
cp "$suite/ts_install_cth.erl" "$suite/epmd/epmd_SUITE.erl" "$out/src/"

# The wrappers: the suite finds `epmd` and `ssh` with os:find_executable and runs them through a shell.
printf '#!/bin/sh\nexec "%s" "$@"\n' "$bin" >"$out/bin/epmd"
printf '#!/bin/sh\nexec /usr/bin/ssh -F "%s" "$@"\n' "$out/ssh/config" >"$out/bin/ssh"
chmod +x "$out/bin/epmd" "$out/bin/ssh"
"${in_root[@]}" erlc -o "$out/ebin" "$out/src/ts_install_cth.erl" "$out/src/epmd_SUITE.erl"

ns="fastepmd-ct-$$"
sshns="fastepmd-ctssh-$$"
suite_addr=10.231.0.1
proxy_addr=10.231.0.2
ip netns add "$ns"
ip netns add "$sshns"
cleanup() {
    # Whatever the suite and the sshd left running in the namespaces was started by this run: end it by PID.
    for n in "$ns" "$sshns"; do
        for pid in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns delete "$n" 2>/dev/null || true
    done
}
trap cleanup EXIT
ip link add ct0 netns "$ns" type veth peer name ct1 netns "$sshns"
ip -n "$ns" addr add "$suite_addr/30" dev ct0
ip -n "$sshns" addr add "$proxy_addr/30" dev ct1
for link in lo ct0; do ip -n "$ns" link set "$link" up; done
for link in lo ct1; do ip -n "$sshns" link set "$link" up; done

# The ssh proxy host: keys of this run only, root logs in with the client key, nothing else.
ssh-keygen -q -t ed25519 -N '' -C fastepmd-ct-host -f "$out/ssh/host_key"
ssh-keygen -q -t ed25519 -N '' -C fastepmd-ct-client -f "$out/ssh/client_key"
cp "$out/ssh/client_key.pub" "$out/ssh/authorized_keys"
echo "$proxy_addr $(cut -d' ' -f1,2 "$out/ssh/host_key.pub")" >"$out/ssh/known_hosts"
printf '127.0.0.1 localhost\n%s nohost\n' "$suite_addr" >"$out/ssh/hosts"
cat >"$out/ssh/sshd_config" <<SSHD
ListenAddress $proxy_addr:22
HostKey $out/ssh/host_key
AuthorizedKeysFile $out/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding yes
StrictModes no
PidFile none
SSHD
cat >"$out/ssh/config" <<SSH
Host *
    User root
    IdentityFile $out/ssh/client_key
    IdentitiesOnly yes
    UserKnownHostsFile $out/ssh/known_hosts
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    ConnectTimeout 5
    LogLevel ERROR
SSH
echo "{ssh_proxy_host, \"$proxy_addr\"}." >"$out/ssh/ct.config"
# sshd's privilege-separation folder (/run/sshd) and nohost live in a tmpfs /run and a bound
# /etc/hosts of the namespace's own mount namespace (ip netns exec makes one): the host's are untouched.
ip netns exec "$sshns" /bin/sh -c '
    mount -t tmpfs -o mode=0755 fastepmd-ct-run /run && mkdir -m 0755 /run/sshd &&
    mount --bind "$1/hosts" /etc/hosts && exec /usr/sbin/sshd -D -e -f "$1/sshd_config"' sshd "$out/ssh" \
    >"$out/sshd.log" 2>&1 &
disown
waited=0
until ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$proxy_addr/22" 2>/dev/null; do
    waited=$((waited + 1))
    [ "$waited" -lt 100 ] || { echo "run.sh: sshd did not listen on $proxy_addr:22" >&2; cat "$out/sshd.log" >&2; exit 3; }
    sleep 0.1
done

# The tunnel the two non-local cases use must really reach the daemon, from the proxy's address:
# both cases pass on a closed connection, which a broken tunnel gives too. So, first, BIN on a
# port of its own answers NAMES through the same kind of ssh forward, and while a second
# connection through it stays open, the daemon's side shows the proxy (not loopback) as its peer.
tunnel_check() {
    local daemon tunnel reply peer i
    ip netns exec "$ns" "${in_root[@]}" "$out/bin/epmd" -port 2245 >"$out/tunnel-epmd.log" 2>&1 &
    daemon=$!
    ip netns exec "$ns" "${in_root[@]}" "$out/bin/ssh" -N -o ExitOnForwardFailure=yes -L 2246:nohost:2245 "$proxy_addr" \
        >"$out/tunnel-ssh.log" 2>&1 &
    tunnel=$!
    reply=""
    for i in $(seq 1 50); do
        reply=$(ip netns exec "$ns" bash -c 'exec 3<>/dev/tcp/127.0.0.1/2246 && printf "\0\001n" >&3 && timeout 3 od -An -tx1 <&3' 2>/dev/null | tr -s ' \n' ' ' | sed 's/^ //; s/ $//') || true
        [ -n "$reply" ] && break
        sleep 0.1
    done
    peer=$(ip netns exec "$ns" bash -c 'exec 3<>/dev/tcp/127.0.0.1/2246 && printf "\0" >&3 && sleep 0.5 &&
        ss -Htn state established "( sport = :2245 )"' 2>/dev/null | awk '{print $NF}' | sed 's/:[0-9]*$//' | sort -u | tr '\n' ' ')
    kill "$tunnel" "$daemon" 2>/dev/null || true
    wait "$tunnel" "$daemon" 2>/dev/null || true
    echo "ssh proxy check: NAMES through the tunnel gave \"$reply\"; the daemon's peer: ${peer:-none}"
    [ "$reply" = "$(printf '00 00 %02x %02x' $((2245 >> 8)) $((2245 & 255)))" ] && [ "${peer% }" = "$proxy_addr" ]
}
tunnel_ok=1
tunnel_line=$(tunnel_check) || tunnel_ok=0

eval_script='
    Want = filename:join(os:getenv("CT_WRAPPER_DIR"), "epmd"),
    case os:find_executable("epmd") of
        Want -> io:format("epmd on the emulator PATH: ~s~n", [Want]);
        Other -> io:format("epmd on the emulator PATH is ~p, not ~s~n", [Other, Want]), halt(3)
    end,
    Cases = [list_to_atom(C) || C <- string:lexemes(os:getenv("CT_CASES", ""), " ")],
    Which = case Cases of [] -> []; _ -> [{testcase, Cases}] end,
    Result = ct:run_test([{dir, os:getenv("CT_EBIN")}, {suite, epmd_SUITE}, {auto_compile, false},
                          {config, [os:getenv("CT_CONFIG")]}, {logdir, os:getenv("CT_LOGDIR")} | Which]),
    io:format("ct:run_test: ~p~n", [Result]),
    file:write_file(filename:join(os:getenv("CT_LOGDIR"), "run_test.result"), io_lib:format("~p.~n", [Result])),
    halt(0).'
start=$(date +%s%N)
rc=0
env -u ERL_EPMD_PORT -u ERL_EPMD_ADDRESS -u ERL_EPMD_RELAXED_COMMAND_CHECK -u ERL_FLAGS -u ERL_AFLAGS -u ERL_ZFLAGS \
    CT_WRAPPER_DIR="$out/bin" CT_EBIN="$out/ebin" CT_LOGDIR="$out/logs" CT_CONFIG="$out/ssh/ct.config" \
    CT_CASES="${OTP_SUITE_CASES:-}" \
    timeout -k 10 "${OTP_SUITE_TIMEOUT:-600}" ip netns exec "$ns" "${in_root[@]}" erl -noshell -start_epmd false \
    -env PATH "$out/bin:$PATH" -pa "$out/ebin" -eval "$eval_script" >"$out/erl.log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
    tail -40 "$out/erl.log"
    echo "run.sh: erl exited $rc (124: over ${OTP_SUITE_TIMEOUT:-600} s)"
    exit 3
fi
end=$(date +%s%N)

log=$(find "$out/logs" -name suite.log -path '*epmd_SUITE*' | head -1)
[ -n "$log" ] || { echo "run.sh: ct wrote no suite.log" >&2; cat "$out/erl.log" >&2; exit 3; }
# suite.log: one =case block per case, with =result (and =elapsed, absent for skips). The
# framework's own init/end_per_suite and _per_group blocks are not cases of the suite.
awk -v OFS='\t' '
    function flush() {
        if (c != "" && c !~ /:/) {
            res = r; reason = "";
            if (res ~ /^ok/) res = "ok";
            else if (res ~ /^skipped/) { reason = r; res = "skipped" }
            else { reason = (r == "" ? "no result" : r); res = "failed" }   # auto_skipped included
            print c, res, (e == "" ? "-" : e), reason
        }
        c = ""; r = ""; e = ""; inresult = 0
    }
    /^=case / { flush(); c = $2; sub(/^epmd_SUITE:/, "", c); next }
    /^=result / { r = $0; sub(/^=result +/, "", r); inresult = 1; next }
    /^=elapsed / { e = $2; sub(/s$/, "", e); inresult = 0; next }
    /^=/ { inresult = 0; next }
    inresult { line = $0; gsub(/^[ \t]+/, "", line); r = r " " line }
    END { flush() }' "$log" >"$out/results.tsv"
seconds=$(( (end - start) / 1000000000 ))
echo "$seconds" >"$out/wall_seconds"
erl_version=$("${in_root[@]}" erl -noshell -start_epmd false -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().' 2>/dev/null || echo "?")
echo "epmd_SUITE from Debian's erlang $(cut -d' ' -f2 "$suite/SOURCE"), run by OTP $erl_version's common_test${root:+ of $root}, against $given, $seconds s:"
awk -F'\t' '{ printf "  %-45s %-8s %6s s  %s\n", $1, $2, $3, $4 }' "$out/results.tsv"
echo "$tunnel_line"
awk -F'\t' '{ n[$2]++ } END { printf "epmd_SUITE: %d passed, %d failed, %d skipped\n", n["ok"], n["failed"], n["skipped"] }' "$out/results.tsv"
grep -q 'failed' <(cut -f2 "$out/results.tsv") && exit 1
[ "$tunnel_ok" -eq 1 ] || { echo "run.sh: the ssh proxy does not reach the daemon from a non-local address"; exit 1; }
exit 0
