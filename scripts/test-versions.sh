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
#   MM_JOBS=1 scripts/test-versions.sh       one version at a time (three by
#                                            default, side by side, with the
#                                            output of each in its log)
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
jobs=${MM_JOBS:-3}

# Adds the closing "N passed, N failed" line of LOG to the totals (a run
# that printed none stopped before its end: one failure, whatever it counted
# before, as a suite's own "regress: N passed, N failed" line).
count() {
	local label=$1 log=$2 line p f
	line=$(tail -n 1 "$log" 2>/dev/null | grep -E '^[0-9]+ passed, [0-9]+ failed$' || true)
	if [ -z "$line" ]; then
		p=0 f=1
	else
		p=${line%% passed*}
		f=${line#*, }
		f=${f%% failed}
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	results="${results:-}$label: $p passed, $f failed"$'\n'
}

# Runs COMMAND with its output kept in LOG, and shown unless versions run
# side by side; never fails.
logged() {
	local log=$1; shift
	set +e
	if [ "$jobs" -gt 1 ]; then
		"$@" >"$log" 2>&1
	else
		"$@" 2>&1 | tee "$log"
	fi
	set -e
}

# Takes the lock of the root of RELEASE on file descriptor 9 (one run at a
# time per root), makes sure the root is ready, mounts it, and sets root.
enter_root() {
	local version=$1 release=$2 ready
	mkdir -p "$MM_ROOTS"
	exec 9>"$MM_ROOTS.$release.lock"
	flock 9
	ready=$(root_prepare "$version")
	root=$ready
	root_kill_leftovers "$root"
	root_mount "$root"
}

# Ends what still runs in ROOT and unmounts it.
leave_root() {
	root_kill_leftovers "$1"
	root_unmount "$1"
}

# Runs the suites of PostgreSQL VERSION (a subshell: its root is unmounted
# whatever ends it); the output goes to $logs/pgVERSION.log and, for the
# suite "deb", $logs/pgVERSION-deb.log.
run_version() (
	version=$1
	release=$(debian_release_of "$version")
	plain=$(echo " $suites " | sed 's/ deb / /; s/^ *//; s/ *$//')
	root=""
	trap '[ -z "$root" ] || leave_root "$root"' EXIT
	trap 'exit 130' INT TERM
	rm -f "$logs/pg$version.log" "$logs/pg$version-deb.log"
	if [ -n "$plain" ]; then
		say "PostgreSQL $version: $plain"
		if [ "$release" = "$host_release" ]; then
			logged "$logs/pg$version.log" env PG_MAJOR="$version" "$here/scripts/test.sh" $plain
		else
			enter_root "$version" "$release"
			rsync -a --delete --exclude .git --exclude results --exclude tmp_check \
				--exclude output_iso --exclude '*.o' --exclude '*.so' \
				"$here"/ "$root/srv/morgenmigrate"/
			# the npm runners of the adoption tests, as this machine installed
			# them (a root may not reach the npm registry as this machine does)
			mkdir -p "$root$NPM_RUNNERS"
			rsync -a --delete "$NPM_RUNNERS"/ "$root$NPM_RUNNERS"/
			logged "$logs/pg$version.log" in_root "$root" PG_MAJOR="$version" \
				${PROVE_TESTS:+PROVE_TESTS="$PROVE_TESTS"} \
				MM_WORK=/var/tmp/morgenmigrate-ci MM_PORT=5499 -- \
				/srv/morgenmigrate/scripts/test.sh $plain
		fi
	fi
	if echo " $suites " | grep -q ' deb '; then
		say "PostgreSQL $version: the Debian package, on a clean Debian $release"
		[ -n "$root" ] || enter_root "$version" "$release"
		rsync -a --delete --exclude .git "$here"/ "$root/srv/morgenmigrate"/
		logged "$logs/pg$version-deb.log" in_root "$root" PG_MAJOR="$version" -- \
			/srv/morgenmigrate/scripts/test-deb.sh
	fi
)

if [ -n "$release_checks" ]; then
	say "release checks"
	logged "$logs/release.log" "$here/scripts/check-release.sh"
	count release "$logs/release.log"
fi

# debootstrap before the versions start side by side (one apt-get at a time)
for version in $versions; do
	release=$(debian_release_of "$version")
	if [ "$release" != "$host_release" ] || echo " $suites " | grep -q ' deb '; then
		need_debootstrap
		break
	fi
done

# the npm runners of the adoption tests, once for every version
install_npm_runners "$here"

# the versions, MM_JOBS at a time
running=0
for version in $versions; do
	debian_release_of "$version" >/dev/null
	if [ "$jobs" -gt 1 ]; then
		run_version "$version" &
		running=$((running + 1))
		if [ "$running" -ge "$jobs" ]; then
			wait -n || true
			running=$((running - 1))
		fi
	else
		run_version "$version" || true
	fi
done
wait || true

for version in $versions; do
	if [ "$jobs" -gt 1 ]; then
		for log in "$logs/pg$version.log" "$logs/pg$version-deb.log"; do
			if [ -f "$log" ]; then
				say "$(basename "$log")"
				cat "$log"
			fi
		done
	fi
	if [ "$(echo " $suites " | sed 's/ deb / /; s/^ *//; s/ *$//')" ]; then
		count "pg$version" "$logs/pg$version.log"
	fi
	if echo " $suites " | grep -q ' deb '; then
		count "pg$version-deb" "$logs/pg$version-deb.log"
	fi
done

say "summary"
printf '%s' "${results:-}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
