#!/usr/bin/env bash
# Downloads Debian's own erlang-base packages for RELEASE (bookworm, trixie): every version that
# RELEASE and RELEASE-security offer, into out/erlang-base/RELEASE/ (a cache: a second run downloads
# nothing). The package tests install, upgrade, reinstall and remove them in the booted machine
# (ErlangBaseMaintainerScripts.cs), so that erlang-base's real maintainer scripts run there.
#
# apt runs on a private state directory (tests/private-apt.sh): the machine's apt configuration
# and state are untouched.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$(pwd)
release=${1:?usage: ErlangBaseDebs.sh RELEASE}
dir="$ROOT/out/erlang-base/$release"
if [ -s "$dir/versions" ]; then
    echo "$dir"
    exit 0
fi
apt_dir="$ROOT/out/erlang-base/apt-$release"
rm -rf "$apt_dir" "$dir"
mkdir -p "$apt_dir" "$dir"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$apt_dir/sources.list" <<SOURCES
deb [signed-by=$keyring] http://deb.debian.org/debian $release main
deb [signed-by=$keyring] http://deb.debian.org/debian-security $release-security main
SOURCES
. tests/private-apt.sh
private_apt "$apt_dir"
apt_opts+=(-o APT::Architecture=amd64 -o APT::Architectures=amd64)
apt-get "${apt_opts[@]}" -qq update >&2
versions=$(apt-cache "${apt_opts[@]}" madison erlang-base | awk -F'|' '{gsub(/ /, "", $2); print $2}' | sort -u)
[ -n "$versions" ] || { echo "ErlangBaseDebs.sh: no erlang-base in $release" >&2; exit 1; }
for v in $versions; do
    (cd "$dir" && apt-get "${apt_opts[@]}" -qq download "erlang-base=$v" >&2)
done
printf '%s\n' $versions >"$dir/versions"
rm -rf "$apt_dir"
echo "$dir"
