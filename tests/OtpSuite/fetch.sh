#!/usr/bin/env bash
# Fetches OTP's epmd_SUITE from Debian's `erlang` source package, the version of the installed
# erlang-base, into out/otp-suite/<version>/ (a cache: a second run downloads nothing).
#
# apt runs on a private state directory: its own sources.list with deb-src lines, lists, cache and
# status, so the machine's apt configuration and state are untouched. The archives are the
# machine's own: every Debian archive its apt sources name (apt-get indextargets), as deb-src.
# Prints the cache directory on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

version=$(dpkg-query -W -f='${Version}' erlang-base)
dir="$ROOT/out/otp-suite/${version//:/_}"
if [ -f "$dir/epmd/epmd_SUITE.erl" ] && [ -f "$dir/ts_install_cth.erl" ] && [ -s "$dir/cases" ]; then
    echo "$dir"
    exit 0
fi

apt_dir="$ROOT/out/otp-suite/apt"
rm -rf "$apt_dir" "$dir.tmp"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$dir.tmp"
# The machine's Debian archives, as deb-src lines (apt parses both source formats for us).
apt-get indextargets --format 'deb-src $(REPO_URI) $(RELEASE) $(COMPONENT)' 'Created-By: Packages' 'Origin: Debian' \
    | sort -u >"$apt_dir/sources.list"
if [ ! -s "$apt_dir/sources.list" ]; then
    echo "fetch.sh: no Debian archive in the machine's apt sources" >&2
    exit 1
fi
. tests/private-apt.sh
private_apt "$apt_dir"
apt-get "${apt_opts[@]}" -qq update >&2
(cd "$dir.tmp" && apt-get "${apt_opts[@]}" -qq source --download-only "erlang=$version" >&2)
dsc=$(ls "$dir.tmp"/erlang_*.dsc)
# Unpack with Debian's patches applied: the suite exactly as Debian's source ships it.
dpkg-source --no-check -x "$dsc" "$dir.tmp/src" >&2
src="$dir.tmp/src"
mkdir -p "$dir.tmp/out"
cp -r "$src/erts/epmd/test" "$dir.tmp/out/epmd"
cp "$src/lib/common_test/test_server/ts_install_cth.erl" "$dir.tmp/out/"
cp "$src/lib/common_test/test_server/"*.hrl "$dir.tmp/out/" 2>/dev/null || true
cp "$dsc" "$dir.tmp/out/"
(cd "$src" && head -1 debian/changelog) >"$dir.tmp/out/SOURCE"
# The suite's own list of cases, from its all/0 and groups/0: one "case group" line each.
mkdir -p "$dir.tmp/ebin"
erlc -o "$dir.tmp/ebin" "$dir.tmp/out/epmd/epmd_SUITE.erl" >&2
erl -noshell -start_epmd false -pa "$dir.tmp/ebin" -eval '
    Groups = epmd_SUITE:groups(),
    Expand = fun Expand(Entries, In) ->
        lists:flatmap(fun({group, G}) -> {G, _, Cs} = lists:keyfind(G, 1, Groups), Expand(Cs, atom_to_list(G));
                         (C) when is_atom(C) -> [{C, In}] end, Entries)
    end,
    [io:format("~s ~s~n", [C, G]) || {C, G} <- Expand(epmd_SUITE:all(), "-")],
    halt(0).' >"$dir.tmp/out/cases"
rm -rf "$dir"
mv "$dir.tmp/out" "$dir"
rm -rf "$dir.tmp" "$apt_dir"
echo "$dir"
