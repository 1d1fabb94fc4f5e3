#!/usr/bin/env bash
# Runs OTP's epmd_SUITE, unmodified, against the epmd binary BIN:
#   tests/OtpSuite/run.sh BIN [OUTDIR]
# The suite comes from Debian's source package (fetch.sh). Around it only: OTP's ts_install_cth hook
# compiled from the same source, a wrapper named `epmd` that execs BIN first on the emulator's PATH
# (erlexec puts its own erts bin folder, with OTP's epmd, first; -env PATH overrides that), and
# ct:run_test from a non-distributed erl (ct_run would start a system epmd).
# The suite binds its daemons to the fixed port 2243, so it runs in a network namespace of its own
# with only loopback up: concurrent runs cannot meet, and nothing on the host is touched.
# Writes OUTDIR/results.tsv (case, result, seconds, reason) and prints one line per case.
# Exit 0 when no case failed.
set -euo pipefail
given=${1:?usage: run.sh BIN [OUTDIR]}
bin=$(readlink -f "$given")
[ -x "$bin" ] || { echo "run.sh: $bin is not executable" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
suite=$("$here/fetch.sh")
out=${2:-$(cd "$here/../.." && pwd)/out/otp-suite/run}
out=$(mkdir -p "$out" && cd "$out" && pwd)
rm -rf "${out:?}"/*
mkdir -p "$out/ebin" "$out/bin" "$out/logs"

# The wrapper: the suite finds `epmd` with os:find_executable and runs it through a shell.
printf '#!/bin/sh\nexec "%s" "$@"\n' "$bin" >"$out/bin/epmd"
chmod +x "$out/bin/epmd"
erlc -o "$out/ebin" "$suite/ts_install_cth.erl" "$suite/epmd/epmd_SUITE.erl"

ns="fastepmd-ct-$$"
ip netns add "$ns"
cleanup() {
    # Whatever the suite left running in the namespace was started by this run: end it by PID.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns delete "$ns" 2>/dev/null || true
}
trap cleanup EXIT
ip -n "$ns" link set lo up

eval_script='
    Want = filename:join(os:getenv("CT_WRAPPER_DIR"), "epmd"),
    case os:find_executable("epmd") of
        Want -> io:format("epmd on the emulator PATH: ~s~n", [Want]);
        Other -> io:format("epmd on the emulator PATH is ~p, not ~s~n", [Other, Want]), halt(3)
    end,
    Result = ct:run_test([{dir, os:getenv("CT_EBIN")}, {suite, epmd_SUITE}, {auto_compile, false},
                          {logdir, os:getenv("CT_LOGDIR")}]),
    io:format("ct:run_test: ~p~n", [Result]),
    file:write_file(filename:join(os:getenv("CT_LOGDIR"), "run_test.result"), io_lib:format("~p.~n", [Result])),
    halt(0).'
start=$(date +%s%N)
rc=0
env -u ERL_EPMD_PORT -u ERL_EPMD_ADDRESS -u ERL_EPMD_RELAXED_COMMAND_CHECK -u ERL_FLAGS -u ERL_AFLAGS -u ERL_ZFLAGS \
    CT_WRAPPER_DIR="$out/bin" CT_EBIN="$out/ebin" CT_LOGDIR="$out/logs" \
    timeout -k 10 "${OTP_SUITE_TIMEOUT:-420}" ip netns exec "$ns" erl -noshell -start_epmd false -env PATH "$out/bin:$PATH" -pa "$out/ebin" \
    -eval "$eval_script" >"$out/erl.log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
    tail -40 "$out/erl.log"
    echo "run.sh: erl exited $rc (124: over ${OTP_SUITE_TIMEOUT:-420} s)"
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
    /^=elapsed / { e = $2; inresult = 0; next }
    /^=/ { inresult = 0; next }
    inresult { line = $0; gsub(/^[ \t]+/, "", line); r = r " " line }
    END { flush() }' "$log" >"$out/results.tsv"
seconds=$(( (end - start) / 1000000000 ))
echo "$seconds" >"$out/wall_seconds"
echo "epmd_SUITE from Debian's erlang $(cut -d' ' -f2 "$suite/SOURCE") against $given, $seconds s:"
awk -F'\t' '{ printf "  %-45s %-8s %6s s  %s\n", $1, $2, $3, $4 }' "$out/results.tsv"
awk -F'\t' '{ n[$2]++ } END { printf "epmd_SUITE: %d passed, %d failed, %d skipped\n", n["ok"], n["failed"], n["skipped"] }' "$out/results.tsv"
grep -q 'failed' <(cut -f2 "$out/results.tsv") && exit 1
exit 0
