#!/usr/bin/env bash
# FastEpmd build verbs. Thin: the logic lives in the csproj files and native-shim/Makefile.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
CONFIG=${CONFIG:-Release}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

usage() {
    cat <<USAGE
usage: ./build.sh [verb] [args]
  build                 build the shim and every project (default)
  run [flags]           build, then run the daemon in the foreground (OTP epmd flags)
  test [unit|system]    install what the tests need, build, publish, run the tests
  publish               NativeAOT single binary to out/fastepmd
  bench [quick] [args]  BenchmarkDotNet micro-benchmarks + load harness vs OTP epmd and the
                        kernel floor (quick: harness only, not for tails; args go to the harness)
  bench metrics [args]  query CPU per request with -metrics off vs on (scraped every second)
  fuzz SECONDS          coverage-guided fuzzing of the request decoder
  soak MINUTES          churn, queries and faults together against the daemon
USAGE
}

build() {
    make -s -C native-shim
    dotnet build FastEpmd.sln -c "$CONFIG" -nologo -v quiet "$@"
}

publish() {
    make -s -C native-shim
    dotnet publish src/FastEpmd/FastEpmd.csproj -c Release -nologo -v quiet -o out/publish
    mkdir -p out
    # cp + mv: replacing a binary that a running daemon uses fails with ETXTBSY.
    cp out/publish/fastepmd out/fastepmd.new
    mv -f out/fastepmd.new out/fastepmd
    echo "out/fastepmd: $(stat -c %s out/fastepmd) bytes"
}

run() {
    make -s -C native-shim
    dotnet build src/FastEpmd/FastEpmd.csproj -c "$CONFIG" -nologo -v quiet
    exec "src/FastEpmd/bin/$CONFIG/net10.0/linux-x64/fastepmd" "$@"
}

# The tests talk to OTP's epmd and real Erlang nodes, and build network namespaces.
install_test_deps() {
    local missing=()
    command -v erl >/dev/null 2>&1 && command -v epmd >/dev/null 2>&1 || missing+=(erlang-base)
    command -v ip >/dev/null 2>&1 && command -v ss >/dev/null 2>&1 || missing+=(iproute2)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    command -v make >/dev/null 2>&1 || missing+=(make)
    command -v cc >/dev/null 2>&1 || missing+=(gcc)
    # The metrics system tests scrape with a real Prometheus and check the text with promtool.
    command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing: ${missing[*]}"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

run_tests() {
    local project=$1; shift
    dotnet test "$project" -c "$CONFIG" --no-build -nologo "$@"
}

test() {
    local which=${1:-all}
    install_test_deps
    build
    local status=0
    if [ "$which" = all ] || [ "$which" = unit ]; then
        run_tests tests/FastEpmd.Tests || status=1
    fi
    if [ "$which" = all ] || [ "$which" = system ]; then
        # The shipped artifact is the NativeAOT binary: the system tests run against it.
        if [ -z "${FASTEPMD_BIN:-}" ]; then
            publish
            export FASTEPMD_BIN="$ROOT/out/fastepmd"
        fi
        run_tests tests/FastEpmd.SystemTests || status=1
    fi
    return $status
}

bench() {
    # The load harness measures the shipped artifact, so the NativeAOT binary comes first.
    local mode=full
    if [ "${1:-}" = quick ]; then mode=quick; shift; fi
    if [ "${1:-}" = metrics ]; then shift; bench_metrics "$@"; return; fi
    publish
    # The kernel floor beside the two daemons: a bare epoll server (bench/floor/epmd_floor.c).
    cc -O2 -o out/epmd_floor bench/floor/epmd_floor.c
    dotnet build bench/FastEpmd.Load -c Release -nologo -v quiet
    if [ "$mode" = quick ]; then
        dotnet run --project bench/FastEpmd.Load -c Release --no-build -- --quick "$@"
        return
    fi
    dotnet build bench/FastEpmd.Benchmarks -c Release -nologo -v quiet
    # benchmarks.md goes beside the harness's report: --out DIR (bench/results/tmp for a noisy run).
    local out=bench/results prev=""
    for a in "$@"; do [ "$prev" = --out ] && out=$a; prev=$a; done
    mkdir -p "$out"
    local artifacts="$ROOT/bench/results/tmp/bdn"
    rm -rf "$artifacts"
    dotnet run --project bench/FastEpmd.Benchmarks -c Release --no-build -- \
        --filter '*' --memory --artifacts "$artifacts"
    {
        echo "# BenchmarkDotNet: FastEpmd.Core micro-benchmarks"
        echo
        echo "Short in-process job (3 warm-ups, 7 iterations of 80 ms), MemoryDiagnoser; per-operation times (OperationsPerInvoke)."
        for report in "$artifacts"/results/*-report-github.md; do
            echo
            sed -n '/^| /,$p' "$report"
        done
    } >"$out/benchmarks.md"
    dotnet run --project bench/FastEpmd.Load -c Release --no-build -- "$@"
}

# Coverage-guided fuzzing of the request path: SharpFuzz instruments FastEpmd.Core.dll and AFL++
# runs DecoderHarness (bench/FastEpmd.Fuzz) for SECONDS, resuming out/fuzz/findings across runs.
# Without afl-fuzz or SharpFuzz (or with FUZZ_ENGINE=random) a seeded random/mutational loop runs
# instead, with no coverage feedback. A crash fails the verb; replay one with
# `dotnet out/fuzz/bin/FastEpmd.Fuzz.dll replay FILE` and keep it as a FuzzRegressionTests case.
# Query CPU per request with -metrics off (the judged arm) and on, scraped every second as
# Prometheus would; the scraper is bounded (at most 600 scrapes) and stopped by its PID.
bench_metrics() {
    publish
    dotnet build bench/FastEpmd.Load -c Release -nologo -v quiet
    local port=19199
    ( for _ in $(seq 600); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/metrics"; sleep 1; done ) &
    local scraper=$!
    local status=0
    dotnet run --project bench/FastEpmd.Load -c Release --no-build -- --quick --only query16 --otp none --floor none \
        --variants "|-metrics $port" "$@" || status=$?
    kill "$scraper" 2>/dev/null; wait "$scraper" 2>/dev/null
    return $status
}

fuzz() {
    local seconds=${1:?usage: ./build.sh fuzz SECONDS}
    local dir=out/fuzz
    make -s -C native-shim
    rm -rf "$dir/bin"
    dotnet publish bench/FastEpmd.Fuzz/FastEpmd.Fuzz.csproj -c Release -nologo -v quiet -o "$dir/bin"
    local engine=${FUZZ_ENGINE:-afl}
    if [ "$engine" = afl ]; then
        if ! command -v afl-fuzz >/dev/null 2>&1; then
            local sudo=""
            [ "$(id -u)" -eq 0 ] || sudo="sudo"
            { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq afl++; } >/dev/null 2>&1 || true
        fi
        [ -x out/tools/sharpfuzz ] || dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path out/tools >/dev/null 2>&1 || true
        if ! command -v afl-fuzz >/dev/null 2>&1 || [ ! -x out/tools/sharpfuzz ] || ! out/tools/sharpfuzz "$dir/bin/FastEpmd.Core.dll"; then
            echo "fuzz: AFL++ or SharpFuzz instrumentation unavailable; running the seeded random/mutational fuzzer instead"
            engine=random
        fi
    fi
    if [ "$engine" = random ]; then
        dotnet "$dir/bin/FastEpmd.Fuzz.dll" random "$seconds" "${FUZZ_SEED:-$RANDOM}" "$dir/crashes"
        return
    fi
    [ -d "$dir/corpus" ] || dotnet "$dir/bin/FastEpmd.Fuzz.dll" corpus "$dir/corpus"
    echo "fuzz: AFL++ over SharpFuzz-instrumented FastEpmd.Core.dll for $seconds s (log: $dir/afl.log)"
    AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_AUTORESUME=1 \
        AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
        afl-fuzz -i "$dir/corpus" -o "$dir/findings" -t 5000 -m none -V "$seconds" \
        -- dotnet "$dir/bin/FastEpmd.Fuzz.dll" afl >"$dir/afl.log" 2>&1 || { tail -20 "$dir/afl.log"; return 1; }
    grep -E '^(execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|bitmap_cvg) ' "$dir/findings/default/fuzzer_stats" || true
    local crashes
    crashes=$(find "$dir/findings/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
    if [ "$crashes" -gt 0 ]; then
        echo "fuzz: $crashes crashing inputs in $dir/findings/default/crashes"
        find "$dir/findings/default/crashes" -type f -name 'id:*' -print0 | xargs -0 dotnet "$dir/bin/FastEpmd.Fuzz.dll" replay || true
        return 1
    fi
}

# Churn, queries and faults together against the published daemon for MINUTES (bench/FastEpmd.Soak,
# the runner behind the suite's one-minute Robustness soak). Exit 0 only when every check held.
soak() {
    local minutes=${1:?usage: ./build.sh soak MINUTES}
    if [ -z "${FASTEPMD_BIN:-}" ]; then
        publish
        export FASTEPMD_BIN="$ROOT/out/fastepmd"
    fi
    dotnet build bench/FastEpmd.Soak/FastEpmd.Soak.csproj -c Release -nologo -v quiet
    dotnet run --project bench/FastEpmd.Soak/FastEpmd.Soak.csproj -c Release --no-build -- --minutes "$minutes"
}

verb=${1:-build}
[ $# -gt 0 ] && shift
case "$verb" in
    build) build "$@" ;;
    run) run "$@" ;;
    test) test "$@" ;;
    publish) publish ;;
    bench) bench "$@" ;;
    fuzz) fuzz "$@" ;;
    soak) soak "$@" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
esac
