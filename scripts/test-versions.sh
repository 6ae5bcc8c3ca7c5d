#!/usr/bin/env bash
# The test suite of morgenmigrate against several PostgreSQL major versions,
# each from the Debian release that ships it: 15 from Debian 12 "bookworm",
# 17 from Debian 13 "trixie", 18 from Debian "sid".  A version this machine's
# own Debian ships is tested here, as scripts/test.sh does; any other in a
# root file system of its release, made with debootstrap once and kept under
# /var/cache/morgenmigrate (see scripts/debian-root.sh).  The suite "deb"
# builds the Debian package there and installs it on that clean system
# (scripts/test-deb.sh).
#
# It prints one line per stage as the stage ends (the versions run side by
# side): the time since the start, the version, the stage, its result and
# the totals so far.  Stages are the downloads (npm runners, debootstrap,
# each Debian root's packages), each suite of scripts/test.sh, the Debian
# package and the release checks; a download or step that fails says so,
# with the tool's own error, and counts as one failure.  The output of each
# version goes to a log file whose path it prints (MM_LOGS,
# /var/tmp/morgenmigrate-versions by default); the logs of a version with a
# failure are shown at the end.  The summary lists every stage, the skipped
# tests with their reasons and their number; the last line is always
# "N passed, N failed" over all of it, and the exit status is non-zero on
# any failure.
#
#   scripts/test-versions.sh                 15, 17 and 18; every suite
#   scripts/test-versions.sh 17 18           those versions
#   scripts/test-versions.sh --release 15 17 18   and scripts/check-release.sh first
#   MM_SUITES="regress isolation" scripts/test-versions.sh 18
#   MM_ROOTS=/var/tmp/roots scripts/test-versions.sh   keep the roots elsewhere
#   MM_JOBS=1 scripts/test-versions.sh       one version at a time, with its
#                                            whole output on the terminal too
#                                            (three by default, side by side)
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
suites=${MM_SUITES:-regress isolation tap root installcheck deb}
plain=$(echo " $suites " | sed 's/ deb / /; s/^ *//; s/ *$//')
logs=${MM_LOGS:-/var/tmp/morgenmigrate-versions}
host_release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
jobs=${MM_JOBS:-3}
mkdir -p "$logs"
rm -f "$logs"/*.log "$logs/stages" "$logs/totals"
started=$(date +%s)

# The totals so far ("passed failed skipped") and every stage's line, kept
# in files that the versions running side by side update under a lock.
echo "0 0 0" >"$logs/totals"
: >"$logs/stages"

# Reports a stage of WHO (a version such as pg17, or the whole run) from
# its line "stage NAME: RESULT" (RESULT: "N passed, N failed, N skipped",
# "ok", or "failed (why)", which counts as one failure): adds it to the
# totals and prints the progress line.  LOG, if given, is where its output
# is.
report() {
	local who=$1 line=$2 log=${3:-} p=0 f=0 s=0 tp tf ts elapsed
	line=${line#stage }
	if [[ $line =~ :\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped ]]; then
		p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
	elif [[ $line != *": ok"* ]]; then
		f=1
	fi
	if [ "$f" -gt 0 ] && [ -n "$log" ]; then
		line="$line (log: $log)"
	fi
	(
		flock 8
		read -r tp tf ts <"$logs/totals"
		tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s))
		echo "$tp $tf $ts" >"$logs/totals"
		echo "$who $line" >>"$logs/stages"
		elapsed=$(($(date +%s) - started))
		printf '[%3d:%02d] %s %s  | so far: %d passed, %d failed, %d skipped\n' \
			$((elapsed / 60)) $((elapsed % 60)) "$who" "$line" "$tp" "$tf" "$ts"
	) 8>"$logs/totals.lock"
}

# The stage line of a script that ends with "N passed, N failed" (the
# release checks, the Debian package): from its LOG's last line, with the
# first download that failed, if one did; a log without that line stopped
# before its end.
closing_stage() {
	local name=$1 log=$2 line note
	line=$(tail -n 1 "$log" 2>/dev/null | grep -E '^[0-9]+ passed, [0-9]+ failed$' || true)
	note=$(grep -m 1 '^download failed: ' "$log" 2>/dev/null || true)
	if [ -z "$line" ]; then
		echo "stage $name: failed (${note:-stopped before its end})"
	else
		echo "stage $name: $line, 0 skipped${note:+ ($note)}"
	fi
}

# Ends the run, however it ends (a stop of this script itself is a
# failure): the whole output of each version that failed somewhere, then
# the summary: every stage, the skipped tests, and the closing line.
finish() {
	local rc=$? log passed failed skipped
	set +e
	trap - EXIT
	wait
	[ "$rc" -eq 0 ] || report all "stage run: failed (stopped with exit status $rc)"
	if [ "$jobs" -gt 1 ]; then
		for log in $(awk '/ failed \(| [1-9][0-9]* failed/ {
				if (match($0, /\(log: [^)]*\)$/)) print substr($0, RSTART + 6, RLENGTH - 7) }' \
			"$logs/stages" | sort -u); do
			say "$log"
			cat "$log"
		done
	fi
	say "summary (logs in $logs)"
	cat "$logs/stages"
	grep -H '^skipped: ' "$logs"/pg*.log 2>/dev/null |
		sed -E 's|^.*/(pg[0-9]+)\.log:skipped: |skipped: \1 |'
	read -r passed failed skipped <"$logs/totals"
	close_run "$skipped" "$passed" "$failed"
}
trap finish EXIT
trap 'exit 130' INT TERM
for version in $versions; do
	debian_release_of "$version" >/dev/null
done

# Runs COMMAND with its output in LOG (and on the terminal too when one
# version runs at a time), and reports the stage lines it prints as they
# come; never fails.
logged() {
	local who=$1 log=$2; shift 2
	local line
	set +e
	"$@" 2>&1 | tee "$log" | while IFS= read -r line; do
		[ "$jobs" -gt 1 ] || printf '%s\n' "$line"
		case $line in
			"stage "*": "*) report "$who" "$line" "$log" ;;
		esac
	done
	set -e
}

# Takes the lock of the root of RELEASE on file descriptor 9 (one run at a
# time per root), makes sure the root is ready (the download stage "root"),
# mounts it, and sets root; fails if the root cannot be made.
enter_root() {
	local version=$1 release=$2
	mkdir -p "$MM_ROOTS"
	exec 9>"$MM_ROOTS.$release.lock"
	flock 9
	download_error=""
	if ! root_prepare "$version" >"$logs/pg$version-root.log" 2>&1; then
		report "pg$version" "stage root: failed (${download_error:-making the Debian $release root failed})" \
			"$logs/pg$version-root.log"
		return 1
	fi
	report "pg$version" "stage root: ok"
	root=$prepared_root
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
	root=""
	# a version that stops unexpectedly reports it: a failure
	trap 'rc=$?; [ -z "$root" ] || leave_root "$root"
		[ "$rc" -eq 0 ] || report "pg$version" "stage run: failed (stopped with exit status $rc)"' EXIT
	trap 'exit 130' INT TERM
	log=$logs/pg$version.log
	if [ -n "$plain" ]; then
		say "PostgreSQL $version: $plain (log: $log)"
		if [ "$release" = "$host_release" ]; then
			logged "pg$version" "$log" env PG_MAJOR="$version" "$here/scripts/test.sh" $plain
		elif enter_root "$version" "$release"; then
			rsync -a --delete --exclude .git --exclude results --exclude tmp_check \
				--exclude output_iso --exclude '*.o' --exclude '*.so' \
				"$here"/ "$root/srv/morgenmigrate"/
			# the npm runners of the adoption tests, as this machine installed
			# them (a root may not reach the npm registry as this machine does)
			mkdir -p "$root$NPM_RUNNERS"
			rsync -a --delete "$NPM_RUNNERS"/ "$root$NPM_RUNNERS"/
			logged "pg$version" "$log" in_root "$root" PG_MAJOR="$version" \
				${PROVE_TESTS:+PROVE_TESTS="$PROVE_TESTS"} \
				MM_WORK=/var/tmp/morgenmigrate-ci MM_PORT=5499 -- \
				/srv/morgenmigrate/scripts/test.sh $plain
		fi
		# scripts/test.sh ends with its closing line, whatever stops it; a
		# log without one was cut short
		if [ -f "$log" ] && ! tail -n 1 "$log" | grep -qE '^[0-9]+ passed, [0-9]+ failed$'; then
			report "pg$version" "stage suites: failed (stopped before its end)" "$log"
		fi
	fi
	if echo " $suites " | grep -q ' deb '; then
		log=$logs/pg$version-deb.log
		say "PostgreSQL $version: the Debian package, on a clean Debian $release (log: $log)"
		if [ -n "$root" ] || enter_root "$version" "$release"; then
			rsync -a --delete --exclude .git "$here"/ "$root/srv/morgenmigrate"/
			logged "pg$version" "$log" in_root "$root" PG_MAJOR="$version" -- \
				/srv/morgenmigrate/scripts/test-deb.sh
			report "pg$version" "$(closing_stage deb "$log")" "$log"
		fi
	fi
)

say "logs of this run: $logs"
if [ -n "$release_checks" ]; then
	say "release checks (log: $logs/release.log)"
	logged release "$logs/release.log" "$here/scripts/check-release.sh"
	report release "$(closing_stage release "$logs/release.log")" "$logs/release.log"
fi

# debootstrap before the versions start side by side (one apt-get at a time)
for version in $versions; do
	release=$(debian_release_of "$version")
	if [ "$release" != "$host_release" ] || echo " $suites " | grep -q ' deb '; then
		download_error=""
		if need_debootstrap >"$logs/debootstrap.log" 2>&1; then
			report all "stage debootstrap: ok"
		else
			report all "stage debootstrap: failed (${download_error:-see the log})" "$logs/debootstrap.log"
		fi
		break
	fi
done

# the npm runners of the adoption tests, once for every version
if echo " $suites " | grep -q ' tap '; then
	download_error=""
	if install_npm_runners "$here" >"$logs/npm.log" 2>&1; then
		report all "stage npm: ok"
	else
		report all "stage npm: failed (${download_error:-see the log})" "$logs/npm.log"
	fi
fi

# the versions, MM_JOBS at a time
running=0
for version in $versions; do
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

