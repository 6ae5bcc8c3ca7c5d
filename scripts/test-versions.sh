#!/usr/bin/env bash
# The test suite of morgenmigrate against several PostgreSQL major versions,
# each from the Debian release that ships it: 15 from Debian 12 "bookworm",
# 17 from Debian 13 "trixie", 18 from Debian "sid".  A version this machine's
# own Debian ships is tested here, as scripts/test.sh does; any other in a
# root file system of its release, made with debootstrap once and kept under
# /var/cache/morgenmigrate (see scripts/debian-root.sh).  The suite "deb"
# builds the Debian package there and installs it on that clean system
# (scripts/test-deb.sh).  Ends with one "N passed, N failed" line over
# every version and exits non-zero on any failure.
#
#   scripts/test-versions.sh                 15, 17 and 18; every suite
#   scripts/test-versions.sh 17 18           those versions
#   scripts/test-versions.sh --release 15 17 18   and scripts/check-release.sh first
#   MM_SUITES="regress isolation" scripts/test-versions.sh 18
#   MM_ROOTS=/var/tmp/roots scripts/test-versions.sh   keep the roots elsewhere
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"
. "$here/scripts/debian-root.sh"
need_root "$@"

release_checks=""
if [ "${1:-}" = --release ]; then
	release_checks=1
	shift
fi
versions=${*:-15 17 18}
suites=${MM_SUITES:-regress isolation tap deb}
logs=${MM_LOGS:-/var/tmp/morgenmigrate-versions}
host_release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
mkdir -p "$logs"

passed=0
failed=0
mounted=""

# Unmounts the root in use, whatever ended the run.
cleanup() {
	if [ -n "$mounted" ]; then
		root_kill_leftovers "$mounted"
		root_unmount "$mounted"
		mounted=""
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Adds the last "N passed, N failed" line of LOG to the totals (a run that
# printed none failed before any test could run: one failure).
count() {
	local label=$1 log=$2 line p f
	line=$(grep -E '^([a-z]+: )?[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)
	if [ -z "$line" ]; then
		p=0 f=1
	else
		line=${line#*: }
		p=${line%% passed*}
		f=${line#*, }
		f=${f%% failed}
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	results="${results:-}$label: $p passed, $f failed"$'\n'
}

# Runs COMMAND with its output shown and kept in LOG; never fails.
logged() {
	local log=$1; shift
	set +e
	"$@" 2>&1 | tee "$log"
	set -e
}

# Runs the suites SUITES (deb excluded) of PostgreSQL VERSION inside ROOT.
run_in_root() {
	local version=$1 root=$2; shift 2
	rsync -a --delete --exclude .git --exclude results --exclude tmp_check \
		--exclude output_iso --exclude '*.o' --exclude '*.so' \
		"$here"/ "$root/srv/morgenmigrate"/
	in_root "$root" PG_MAJOR="$version" ${PROVE_TESTS:+PROVE_TESTS="$PROVE_TESTS"} \
		MM_WORK=/var/tmp/morgenmigrate-ci MM_PORT=5499 -- \
		/srv/morgenmigrate/scripts/test.sh "$@"
}

if [ -n "$release_checks" ]; then
	say "release checks"
	logged "$logs/release.log" "$here/scripts/check-release.sh"
	count release "$logs/release.log"
fi

for version in $versions; do
	release=$(debian_release_of "$version")
	plain=$(echo " $suites " | sed 's/ deb / /; s/^ *//; s/ *$//')
	root=""
	if [ "$release" != "$host_release" ] || echo " $suites " | grep -q ' deb '; then
		exec 9>"$MM_ROOTS.$release.lock"
		mkdir -p "$MM_ROOTS"
		flock 9
		root=$(root_prepare "$version")
		root_kill_leftovers "$root"
		root_mount "$root"
		mounted=$root
	fi
	if [ -n "$plain" ]; then
		say "PostgreSQL $version: $plain"
		log=$logs/pg$version.log
		if [ "$release" = "$host_release" ]; then
			logged "$log" env PG_MAJOR="$version" "$here/scripts/test.sh" $plain
		else
			logged "$log" run_in_root "$version" "$root" $plain
		fi
		count "pg$version" "$log"
	fi
	if echo " $suites " | grep -q ' deb '; then
		say "PostgreSQL $version: the Debian package, on a clean Debian $release"
		log=$logs/pg$version-deb.log
		rsync -a --delete --exclude .git "$here"/ "$root/srv/morgenmigrate"/
		logged "$log" in_root "$root" PG_MAJOR="$version" -- /srv/morgenmigrate/scripts/test-deb.sh
		count "pg$version-deb" "$log"
	fi
	cleanup
	exec 9>&-
done

say "summary"
printf '%s' "${results:-}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
