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
  bench [quick]         BenchmarkDotNet micro-benchmarks + load harness vs OTP epmd
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
    publish
    dotnet build bench/FastEpmd.Load -c Release -nologo -v quiet
    if [ "$mode" = quick ]; then
        dotnet run --project bench/FastEpmd.Load -c Release --no-build -- --quick "$@"
        return
    fi
    dotnet build bench/FastEpmd.Benchmarks -c Release -nologo -v quiet
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
    } >bench/results/benchmarks.md
    dotnet run --project bench/FastEpmd.Load -c Release --no-build -- "$@"
}

verb=${1:-build}
[ $# -gt 0 ] && shift
case "$verb" in
    build) build "$@" ;;
    run) run "$@" ;;
    test) test "$@" ;;
    publish) publish ;;
    bench) bench "$@" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
esac
