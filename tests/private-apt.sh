# Sourced by the scripts that fetch Debian packages for the tests (tests/OtpSuite/fetch.sh,
# tests/FastEpmd.SystemTests/Packaging/ErlangBaseDebs.sh): apt on a private state directory DIR,
# with its own DIR/sources.list, lists, cache and (empty) status, so that the machine's apt
# configuration and state are untouched. Sets the array apt_opts; the caller writes sources.list.
private_apt() {
    local dir=$1
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
    : >"$dir/status"
    apt_opts=(
        -o Dir::Etc::SourceList="$dir/sources.list"
        -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State="$dir"
        -o Dir::State::Lists="$dir/lists"
        -o Dir::State::status="$dir/status"
        -o Dir::Cache="$dir/cache"
        -o Debug::NoLocking=1
        -o APT::Sandbox::User=root
    )
}
