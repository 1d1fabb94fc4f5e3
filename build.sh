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
  publish               NativeAOT single binary to out/fastepmd (ARCH=arm64: out/arm64/fastepmd,
                        cross-compiled from amd64)
  deb                   publish, then a Debian package (debian/) in out/deb/, lintian-checked
                        (ARCH=arm64: the arm64 package)
  image                 publish for amd64 and arm64, then FROM-scratch images of both
                        (dist/container/Containerfile) and their OCI image index, with podman
  image-rootfs          publish, then only the image's files in out/image/rootfs (Dockerfile step)
  bench [quick] [args]  BenchmarkDotNet micro-benchmarks + load harness vs OTP epmd and the
                        kernel floor (quick: harness only, not for tails; args go to the harness)
  bench metrics [args]  query CPU per request with -metrics off vs on (scraped every second)
  fuzz SECONDS          coverage-guided fuzzing of the request decoder
  soak MINUTES          churn, queries and faults together against the daemon
  libkqueue             fetch libkqueue (Debian experimental, private apt state) into out/libkqueue
                        and build the shim's kqueue file against it (a step of test)
USAGE
}

build() {
    make -s -C native-shim
    dotnet build FastEpmd.sln -c "$CONFIG" -nologo -v quiet "$@"
}

# ARCH: the architecture publish, deb and image-rootfs build for, the machine's own by default
# (dpkg --print-architecture). The host's build goes to out/fastepmd; ARCH=arm64 on amd64
# cross-compiles out/arm64/fastepmd (the shim with aarch64-linux-gnu-gcc, the NativeAOT link with
# clang and lld against /usr/aarch64-linux-gnu). use_arch sets RID, BIN (the binary), ROOTFS (the
# image's files) and CROSS (the NativeAOT cross-link flags).
HOST_ARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)
use_arch() {
    case "$1" in
        amd64|x86_64) ARCH=amd64 RID=linux-x64 ;;
        arm64|aarch64) ARCH=arm64 RID=linux-arm64 ;;
        *) echo "ARCH=$1: amd64 or arm64" >&2; exit 2 ;;
    esac
    CROSS=()
    if [ "$ARCH" = "$HOST_ARCH" ]; then
        BIN=out/fastepmd ROOTFS=out/image/rootfs
    elif [ "$ARCH" = arm64 ] && [ "$HOST_ARCH" = amd64 ]; then
        BIN=out/arm64/fastepmd ROOTFS=out/image/arm64/rootfs
        CROSS=(-p:CppCompilerAndLinker=clang -p:ObjCopyName=aarch64-linux-gnu-objcopy)
    else
        echo "ARCH=$ARCH: cross builds go from amd64 to arm64 only" >&2; exit 2
    fi
}
use_arch "${ARCH:-$HOST_ARCH}"

publish() {
    [ ${#CROSS[@]} -eq 0 ] || install_packages "${CROSS_PACKAGES[@]}"
    # The shim for the target: make ARCH=arm64 cross-compiles into native-shim/out/arm64/.
    make -s -C native-shim ARCH="$([ ${#CROSS[@]} -eq 0 ] || echo "$ARCH")"
    dotnet publish src/FastEpmd/FastEpmd.csproj -c Release -nologo -v quiet -r "$RID" "${CROSS[@]}" -o "out/publish/$RID"
    mkdir -p "$(dirname "$BIN")"
    # cp + mv: replacing a binary that a running daemon uses fails with ETXTBSY.
    cp "out/publish/$RID/fastepmd" "$BIN.new"
    mv -f "$BIN.new" "$BIN"
    echo "$BIN ($ARCH): $(stat -c %s "$BIN") bytes"
}

# The Debian package wraps the published binary: debian/rules compiles nothing, so the build
# needs no SDK and no network. Staged under out/deb/ so that dpkg-buildpackage writes only there.
deb() {
    publish
    package_deb
}

package_deb() {
    [ -x "$BIN" ] || publish
    local version stage changes deb_file
    version=$(dpkg-parsechangelog -l debian/changelog -S Version)
    stage=out/deb/fastepmd-$version
    rm -rf "$stage" "out/deb/build-$ARCH.log"
    mkdir -p "$stage"
    cp -r debian "$stage/"
    cp "$BIN" dist/man/fastepmd.8 "$stage/"
    cp dist/systemd/fastepmd.service dist/systemd/fastepmd.socket "$stage/debian/"
    # --host-arch: the architecture of the binary staged (dh_strip and dpkg-shlibdeps cross-aware).
    # A cross build's glibc is in /usr/aarch64-linux-gnu/lib, which dpkg-shlibdeps looks in only
    # when LD_LIBRARY_PATH names it (the host's loader skips libraries of another machine).
    # Its shlibs name libc6:arm64, a cross dependency: the staged debian/shlibs.local names libc6,
    # as a native arm64 build would.
    local libs=()
    if [ ${#CROSS[@]} -gt 0 ]; then
        libs=("LD_LIBRARY_PATH=$ARM64_SYSROOT/lib")
        sed "s/:$ARCH / /" "/var/lib/dpkg/info/libc6-$ARCH-cross.shlibs" >"$stage/debian/shlibs.local"
    fi
    (cd "$stage" && env "${libs[@]}" dpkg-buildpackage -b -us -uc --no-sign --host-arch "$ARCH" >"../build-$ARCH.log" 2>&1) ||
        { tail -30 "out/deb/build-$ARCH.log"; return 1; }
    changes=out/deb/fastepmd_${version}_$ARCH.changes deb_file=out/deb/fastepmd_${version}_$ARCH.deb
    lintian --fail-on error,warning --suppress-tags bad-distribution-in-changes-file "$changes"
    echo "$deb_file: $(stat -c %s "$deb_file") bytes"
}

# Copies into the root folder DEST every library that ldd names for the ELF files given, at its
# own path (symlinks resolved): with them, a FROM-scratch image runs those files.
copy_libs() {
    local dest=$1; shift
    local lib
    for lib in $(for f in "$@"; do file -b "$f" | grep -q '^ELF' && ldd "$f"; done |
            awk '/=> \// {print $3} /^[[:space:]]*\/lib/ {print $1}' | sort -u); do
        mkdir -p "$dest$(dirname "$lib")"
        cp -L "$lib" "$dest$lib"
    done
}

# The same for an arm64 binary on amd64: the cross loader lists the libraries at the paths it
# resolves under /usr/aarch64-linux-gnu (qemu -L), and each goes to that path in DEST, so the
# image's files are laid out as the arm64 loader looks for them.
ARM64_SYSROOT=/usr/aarch64-linux-gnu
copy_cross_libs() {
    local dest=$1 binary=$2 lib
    for lib in $(qemu-aarch64-static -L "$ARM64_SYSROOT" "$ARM64_SYSROOT/lib/ld-linux-aarch64.so.1" --list "$binary" |
            awk '/=> \// {print ($1 ~ /^\//) ? $1 : $3}' | sort -u); do
        mkdir -p "$dest$(dirname "$lib")"
        cp -L "$ARM64_SYSROOT$lib" "$dest$lib"
    done
}

# The FastEpmd image, offline: FROM scratch, the published binary and its glibc files, uid 65532,
# for amd64 and arm64: IMAGE-amd64 and IMAGE-arm64, and the list IMAGE-index of both, exported with
# both images as an OCI image index in out/image/fastepmd-oci.tar. IMAGE itself is the host's.
IMAGE=localhost/fastepmd:0.1.0
# (An arm64 machine builds its own image only: cross builds go from amd64 to arm64.)
IMAGE_ARCHES=(amd64 arm64)
[ "$HOST_ARCH" = amd64 ] || IMAGE_ARCHES=("$HOST_ARCH")
image() {
    local arch
    for arch in "${IMAGE_ARCHES[@]}"; do (use_arch "$arch" && publish); done
    package_image
}

# The image's whole file system for ARCH: the binary and the libraries its loader names. Also the
# Dockerfile's build step (its own architecture, out/image/rootfs).
image_rootfs() {
    rm -rf "$ROOTFS"
    mkdir -p "$ROOTFS/usr/local/bin"
    cp "$BIN" "$ROOTFS/usr/local/bin/fastepmd"
    if [ ${#CROSS[@]} -eq 0 ]; then copy_libs "$ROOTFS" "$BIN"; else copy_cross_libs "$ROOTFS" "$BIN"; fi
}

package_image() {
    local ctx=out/image arch podman=dist/container/podman-local
    mkdir -p "$ctx"
    for arch in "${IMAGE_ARCHES[@]}"; do
        (
            use_arch "$arch"
            [ -x "$BIN" ] || publish
            image_rootfs
            local dir
            dir=$(dirname "$ROOTFS")
            cp dist/container/Containerfile "$dir/Containerfile"
            # docker format: OCI image configs have no HEALTHCHECK. FROM scratch with COPY only: no
            # step runs an arm64 program, so the arm64 image builds without emulation.
            $podman build -q --format docker --platform "linux/$arch" -t "$IMAGE-$arch" -f "$dir/Containerfile" "$dir" >/dev/null
        )
    done
    $podman tag "$IMAGE-$HOST_ARCH" "$IMAGE"
    $podman manifest rm "$IMAGE-index" >/dev/null 2>&1 || true
    $podman manifest create "$IMAGE-index" >/dev/null
    for arch in "${IMAGE_ARCHES[@]}"; do
        $podman manifest add "$IMAGE-index" "containers-storage:$IMAGE-$arch" >/dev/null
    done
    rm -f "$ctx/fastepmd-oci.tar"
    $podman manifest push -q --all "$IMAGE-index" "oci-archive:$ctx/fastepmd-oci.tar:fastepmd:0.1.0" >/dev/null
    local size
    for arch in "${IMAGE_ARCHES[@]}"; do
        size=$($podman image inspect --format '{{.Size}}' "$IMAGE-$arch")
        echo "$IMAGE-$arch: $size bytes ($(awk -v s="$size" 'BEGIN {printf "%.2f", s/1048576}') MiB)"
    done
    echo "$IMAGE-index: ${IMAGE_ARCHES[*]}; OCI image index $ctx/fastepmd-oci.tar"
}

# The Erlang node beside it in the podman test, offline: the host's erlang-base files, FROM scratch.
TEST_NODE_IMAGE=localhost/fastepmd-test-erlang:latest
test_node_image() {
    local ctx=out/image-erlang erts
    erts=$(basename /usr/lib/erlang/erts-*)
    rm -rf "$ctx"
    mkdir -p "$ctx/rootfs/tmp"
    chmod 1777 "$ctx/rootfs/tmp"
    dpkg -L erlang-base | grep '^/usr/lib/erlang/' | while read -r f; do [ -f "$f" ] && echo "${f#/}"; done |
        tar -C / -cf - -T - | tar -C "$ctx/rootfs" -xf -
    copy_libs "$ctx/rootfs" "/usr/lib/erlang/$erts/bin"/*
    ln -s "usr/lib/erlang/$erts/bin/erlexec" "$ctx/rootfs/erlexec"
    cp tests/FastEpmd.SystemTests/Packaging/erlang-node.Containerfile "$ctx/Containerfile"
    dist/container/podman-local build -q --build-arg "ERTS=$erts" -t "$TEST_NODE_IMAGE" -f "$ctx/Containerfile" "$ctx" >/dev/null
}

run() {
    make -s -C native-shim
    dotnet build src/FastEpmd/FastEpmd.csproj -c "$CONFIG" -nologo -v quiet
    exec "src/FastEpmd/bin/$CONFIG/net10.0/linux-x64/fastepmd" "$@"
}

# The arm64 cross build: the shim with aarch64-linux-gnu-gcc, the NativeAOT link with clang, lld and
# the arm64 glibc in /usr/aarch64-linux-gnu, symbols stripped with aarch64-linux-gnu-objcopy.
CROSS_PACKAGES=(clang lld gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross)

# Every Debian package the tests and the build verbs run, named one by one: --no-install-recommends
# keeps the install small and predictable, so a helper that is only a Recommends (podman's catatonit,
# slirp4netns, uidmap, fuse-overlayfs; common_test's headers) is listed here itself. README
# "Tests" says why each is here.
TEST_PACKAGES=(
    # OTP's epmd beside FastEpmd, real Erlang nodes, OTP's epmd_SUITE (common_test, its headers,
    # dpkg-source to unpack the suite), the libei C node and the Jinterface Java node.
    erlang-base erlang-common-test erlang-dev erlang-jinterface default-jdk-headless dpkg-dev
    # Build: the native shim, the Debian package and its lint.
    make gcc libc6-dev debhelper lintian file
    # Namespaces, addresses and processes the system tests make and read.
    iproute2 procps util-linux python3 strace
    # The metrics tests scrape with a real Prometheus and check the text with promtool.
    prometheus
    # Booted Debian machines for the package tests, and the Debian 13 root (debootstrap trixie).
    debootstrap debian-archive-keyring systemd-container
    # epmd_SUITE's ssh proxy host: the suite's ssh client, and an sshd that run.sh starts in a
    # network namespace of its own (installing the package starts Debian's ssh.service on a host
    # with systemd; the tests never use it).
    openssh-client openssh-server
    # The image in a podman pod: podman and every helper it runs here (runc, not crun, on this
    # kernel; catatonit is a pod's pause process).
    podman runc conmon catatonit uidmap slirp4netns fuse-overlayfs netavark aardvark-dns iptables
    # linux-arm64: the cross toolchain (ARCH=arm64 publish, deb, image) and qemu, which runs the
    # arm64 binary, its struct layout probe and its image in the emulated tests.
    "${CROSS_PACKAGES[@]}" qemu-user-static
)

# Installs the Debian packages named that are missing (checked by name with dpkg-query).
install_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
}

install_test_deps() {
    install_packages "${TEST_PACKAGES[@]}"
    # The Kubernetes manifest's validators run on node. The machine image brings its own Node.js
    # (whose package includes npm, which Debian's npm conflicts with): Debian's only where none is.
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || install_packages nodejs npm
}

# The Debian roots the tests use, one per release, debootstrapped once and cached in
# out/nspawn/RELEASE (the booted-machine tests boot an overlay of it, so the cache stays clean):
# bookworm (Debian 12, OTP 25) and trixie (Debian 13, OTP 27). Each is a booted machine's root
# (systemd, dbus, erlang-base with Debian's epmd.socket, procps, iproute2); trixie's is also the
# second reference, run in a chroot (tests/FastEpmd.SystemTests/Reference/in-root.sh). About 2-3
# minutes each on a fresh machine, side by side.
NSPAWN_RELEASES=(bookworm trixie)
NSPAWN_PACKAGES=systemd,systemd-sysv,dbus,erlang-base,procps,iproute2
# Installed into trixie's root afterwards with its own apt (debootstrap's resolver does not handle
# their virtual packages): OTP 27's common_test, its headers (erlang-dev) and the ssh client run
# epmd_SUITE, lintian checks the package as Debian 13 does.
NSPAWN_TRIXIE_EXTRA=(erlang-common-test erlang-dev openssh-client lintian)

# Unmounts whatever is mounted under DIR, deepest first (a failed debootstrap leaves DIR/proc
# mounted): rm -rf must never walk into a mounted /proc or /dev.
release_mounts() {
    local dir mnt
    dir=$(readlink -f "$1")
    awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r mnt; do
        umount "$mnt" 2>/dev/null || umount -l "$mnt"
    done
}

# Installs packages into the root ROOT with its own apt (the root's chroot sees the host's DNS).
nspawn_extras() {
    local root=$1; shift
    [ $# -gt 0 ] || return 0
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    DEBIAN_FRONTEND=noninteractive tests/FastEpmd.SystemTests/Reference/in-root.sh "$root" \
        apt-get install -y -q --no-install-recommends "$@" &&
        tests/FastEpmd.SystemTests/Reference/in-root.sh "$root" apt-get clean
}

nspawn_root() {
    local release=$1 root=out/nspawn/$1 extra=()
    [ "$release" = trixie ] && extra=("${NSPAWN_TRIXIE_EXTRA[@]}")
    # The cache of earlier versions of this script, which made only bookworm's, as out/nspawn/root.
    if [ "$release" = bookworm ] && [ ! -e "$root" ] && [ -d out/nspawn/root/usr/lib/systemd ]; then
        mv out/nspawn/root "$root"
    fi
    local stamp="$NSPAWN_PACKAGES ${extra[*]}" log=out/nspawn/debootstrap-$release.log
    if [ -d "$root/usr/lib/systemd" ]; then
        [ "$(cat "$root.packages" 2>/dev/null || echo "$stamp")" = "$stamp" ] && return 0
        # A root made with fewer extras: add them with its own apt.
        if [ "$(cut -d' ' -f1 "$root.packages")" = "$NSPAWN_PACKAGES" ] && nspawn_extras "$root" "${extra[@]}" >>"$log" 2>&1; then
            echo "$stamp" >"$root.packages"
            return 0
        fi
    fi
    mkdir -p out/nspawn
    [ -d "$root.tmp" ] && release_mounts "$root.tmp"
    rm -rf "$root.tmp"
    debootstrap --variant=minbase --include="$NSPAWN_PACKAGES" "$release" "$root.tmp" >"$log" 2>&1 ||
        { release_mounts "$root.tmp"; tail -20 "$log"; return 1; }
    if [ ${#extra[@]} -gt 0 ]; then
        nspawn_extras "$root.tmp" "${extra[@]}" >>"$log" 2>&1 || { tail -20 "$log"; return 1; }
    fi
    rm -rf "$root"
    mv "$root.tmp" "$root"
    echo "$stamp" >"$root.packages"
}

# Every release's root, side by side.
nspawn_roots() {
    # A test run that died leaves its overlays (out/nspawn/run-PID/NAME) mounted: release those.
    local run dir busy
    for run in out/nspawn/run-*; do
        [ -d "$run" ] || continue
        kill -0 "${run##*-}" 2>/dev/null && continue
        busy=0
        for dir in "$run"/*/ "$run"/*/*/; do
            if mountpoint -q "$dir"; then umount "$dir" || busy=1; fi
        done
        [ "$busy" -eq 0 ] && rm -rf "$run"
    done
    local release jobs=() status=0
    for release in "${NSPAWN_RELEASES[@]}"; do
        nspawn_root "$release" & jobs+=($!)
    done
    for dir in "${jobs[@]}"; do wait "$dir" || status=1; done
    return $status
}

# libkqueue (the kqueue API over epoll), for the loop suite's kqueue run on Linux: Debian ships it
# only in experimental. apt works on a private state directory (its own sources.list with one
# experimental line, lists, cache and status under out/libkqueue/apt), so the machine's apt
# configuration is untouched and nothing is installed system-wide: dpkg-deb unpacks the two
# packages into out/libkqueue/root, and native-shim's kqueue-test target compiles fe_kqueue.c
# against them into out/libkqueue/libfastepmd_kqueue.so. The shipped shim keeps its ENOSYS stubs.
LIBKQUEUE_VERSION=2.3.1-1.1~exp1
LIBKQUEUE=out/libkqueue
libkqueue() {
    local stamp=$LIBKQUEUE/.fetched apt_dir=$LIBKQUEUE/apt
    if [ "$(cat "$stamp" 2>/dev/null)" != "$LIBKQUEUE_VERSION" ]; then
        rm -rf "$LIBKQUEUE"
        mkdir -p "$LIBKQUEUE/debs"
        local apt_opts
        # shellcheck source=tests/private-apt.sh
        . tests/private-apt.sh
        private_apt "$ROOT/$apt_dir"
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian experimental main" \
            >"$apt_dir/sources.list"
        apt-get "${apt_opts[@]}" -qq update
        (cd "$LIBKQUEUE/debs" && apt-get "${apt_opts[@]}" -qq download \
            "libkqueue-dev=$LIBKQUEUE_VERSION" "libkqueue0t64=$LIBKQUEUE_VERSION")
        local deb
        for deb in "$LIBKQUEUE"/debs/*.deb; do dpkg-deb -x "$deb" "$LIBKQUEUE/root"; done
        echo "$LIBKQUEUE_VERSION" >"$stamp"
    fi
    make -s -C native-shim kqueue-test LIBKQUEUE_ROOT="$ROOT/$LIBKQUEUE/root" KQUEUE_TEST_OUT="$ROOT/$LIBKQUEUE"
}

# The Kubernetes manifest's validators (tests/FastEpmd.SystemTests/Packaging/validate-k8s.mjs),
# pinned, from npm into out/npm.
K8S_VALIDATOR_PACKAGES="kubernetes-models@5.1.0 yaml@2.9.1 typescript@5.9.3 kubernetes-types@1.30.0"
k8s_validator() {
    local stamp=out/npm/.installed
    [ "$(cat "$stamp" 2>/dev/null)" = "$K8S_VALIDATOR_PACKAGES" ] && return 0
    mkdir -p out/npm
    # shellcheck disable=SC2086
    npm install --prefix out/npm --no-save --no-audit --no-fund --silent $K8S_VALIDATOR_PACKAGES >/dev/null
    echo "$K8S_VALIDATOR_PACKAGES" >"$stamp"
}

# FASTEPMD_BIN for FastEpmd.Arm64Tests: the arm64 binary under user-mode emulation, with the
# cross glibc as its root for library look-ups.
arm64_wrapper() {
    mkdir -p out/arm64
    cat >out/arm64/fastepmd-qemu <<WRAPPER
#!/bin/sh
# The linux-arm64 fastepmd under qemu (written by ./build.sh test).
exec /usr/bin/qemu-aarch64-static -L $ARM64_SYSROOT "$ROOT/out/arm64/fastepmd" "\$@"
WRAPPER
    chmod 755 out/arm64/fastepmd-qemu
}

# Each project leaves out/test-results/NAME.trx (every result, Inconclusive and Not Run included)
# and NAME.discovered (how many tests it has), which .ci/run counts. A test that runs for 11 minutes
# is a hang: the run fails instead of stalling (the longest, an epmd_SUITE fixture running its
# suite itself when run alone, takes 4.5-7 on a busy machine; under ./build.sh test it only waits).
run_tests() {
    local project=$1; shift
    local name results="$ROOT/out/test-results"
    name=$(basename "$project")
    mkdir -p "$results"
    rm -f "$results/$name.trx" "$results/$name.discovered"
    dotnet test "$project" -c "$CONFIG" --no-build -nologo --list-tests "$@" \
        | sed -n '/The following Tests are available:/,$p' | tail -n +2 | grep -c . >"$results/$name.discovered" || true
    # A shell's background job ignores SIGINT and SIGQUIT, and an ignored signal survives exec: the
    # daemons the signal tests start (and OTP's epmd beside them) need the defaults systemd gives.
    env --default-signal=INT,QUIT dotnet test "$project" -c "$CONFIG" --no-build -nologo \
        --logger "trx;LogFileName=$results/$name.trx" \
        --blame-hang-timeout 11m --blame-hang-dump-type none "$@"
}

test() {
    local which=${1:-all}
    install_test_deps
    local status=0 root_job=""
    if [ "$which" = all ] || [ "$which" = system ]; then
        # debootstrap downloads while the build and the unit tests run, and so do erlang-base's own
        # packages that the booted machines install, upgrade and remove (about 20 MB per release).
        { nspawn_roots; r=$?; for release in "${NSPAWN_RELEASES[@]}"; do
            tests/FastEpmd.SystemTests/Packaging/ErlangBaseDebs.sh "$release" >/dev/null ||
                echo "erlang-base download for $release failed: the erlang-base package test will fail"; done; exit $r; } & root_job=$!
    fi
    build
    rm -rf "$ROOT/out/test-results"
    if [ "$which" = all ] || [ "$which" = unit ]; then
        # The loop suite's kqueue run (Loop/, PollerKind.Kqueue) loads this library.
        libkqueue
        run_tests tests/FastEpmd.Tests || status=1
    fi
    if [ "$which" = all ] || [ "$which" = system ]; then
        # The shipped artifact is the NativeAOT binary: the system tests run against it.
        if [ -z "${FASTEPMD_BIN:-}" ]; then
            publish
            export FASTEPMD_BIN="$ROOT/out/fastepmd"
        fi
        # The linux-arm64 build, cross-compiled, packaged and in the image index: FastEpmd.Arm64Tests
        # run it under qemu after the system tests.
        local arm64_start=$SECONDS
        (use_arch arm64 && publish && package_deb) || status=1
        arm64_wrapper
        local arm64_build=$((SECONDS - arm64_start))
        # What the packaging tests install and run: the .deb, the images, the Erlang node's image.
        package_deb
        package_image
        test_node_image
        k8s_validator
        wait "$root_job" || echo "debootstrap failed: the package and Debian 13 tests will fail (out/nspawn/debootstrap-*.log)"
        rm -f out/packaging-figures.txt
        # OTP's epmd_SUITE is 4.5-7 min of mostly its own sleeps, in network namespaces of its own:
        # it runs beside the other system tests, from Debian 12's Erlang and from Debian 13's (in
        # its root) at once, each with a control run of the two non-local cases against that
        # release's own epmd. Its fixture (Upstream/OtpEpmdSuiteTests.cs) waits for these runs
        # and reports them case by case. A failed fetch is reported there too.
        local suite_prefix="$ROOT/out/otp-suite/build" suite_jobs=() release run bin
        mkdir -p "$ROOT/out/otp-suite"
        rm -rf "$suite_prefix"-*
        if tests/OtpSuite/fetch.sh >/dev/null 2>"$suite_prefix.err"; then
            for release in "${NSPAWN_RELEASES[@]}"; do
                for run in "" -control; do
                    bin=$FASTEPMD_BIN
                    [ "$run" = -control ] && bin=/usr/bin/epmd   # with OTP_SUITE_ROOT, the root's
                    (
                        [ "$release" = bookworm ] || export OTP_SUITE_ROOT="$ROOT/out/nspawn/$release"
                        [ "$run" = -control ] && export OTP_SUITE_CASES="no_nonlocal_register no_nonlocal_kill"
                        dir="$suite_prefix-$release$run"
                        rc=0
                        env --default-signal=INT,QUIT tests/OtpSuite/run.sh "$bin" "$dir" >"$dir.out" 2>"$dir.err" || rc=$?
                        echo "$rc" >"$dir.exit"
                    ) &
                    suite_jobs+=($!)
                done
            done
            export FASTEPMD_OTP_SUITE_RUN="$suite_prefix"
        fi
        run_tests tests/FastEpmd.SystemTests || status=1
        unset FASTEPMD_OTP_SUITE_RUN
        # The arm64 binary under qemu: the differential, end-to-end and CLI system tests (compiled
        # into FastEpmd.Arm64Tests from FastEpmd.SystemTests' files), its struct layouts, its image.
        arm64_start=$SECONDS
        run_tests tests/FastEpmd.Arm64Tests || status=1
        echo "arm64: cross publish and .deb ${arm64_build} s, emulated tests $((SECONDS - arm64_start)) s"
        for run in "${suite_jobs[@]}"; do wait "$run" || true; done
        [ -f out/packaging-figures.txt ] && sed 's/^/  figure /' out/packaging-figures.txt
        # OTP's epmd_SUITE, case by case (Upstream/OtpEpmdSuiteTests.cs writes it).
        cat "$ROOT"/out/test-results/epmd_SUITE-*.txt 2>/dev/null || true
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

# Query CPU per request with -metrics off and on (scraped every second): the full run's "metrics"
# cell alone (bench/FastEpmd.Load/Scenarios/MetricsCost.cs).
bench_metrics() {
    publish
    dotnet build bench/FastEpmd.Load -c Release -nologo -v quiet
    dotnet run --project bench/FastEpmd.Load -c Release --no-build -- --only metrics --otp none --floor none \
        --out bench/results/tmp --name metrics "$@"
}

# Coverage-guided fuzzing of the request path: SharpFuzz instruments FastEpmd.Core.dll and AFL++
# runs DecoderHarness (bench/FastEpmd.Fuzz) for SECONDS, resuming out/fuzz/findings across runs.
# Without afl-fuzz or SharpFuzz (or with FUZZ_ENGINE=random) a seeded random/mutational loop runs
# instead, with no coverage feedback. A crash fails the verb; replay one with
# `dotnet out/fuzz/bin/FastEpmd.Fuzz.dll replay FILE` and keep it as a FuzzRegressionTests case.
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
    deb) deb ;;
    image) image ;;
    image-rootfs) publish && image_rootfs ;;
    bench) bench "$@" ;;
    fuzz) fuzz "$@" ;;
    soak) soak "$@" ;;
    libkqueue) libkqueue ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
esac
