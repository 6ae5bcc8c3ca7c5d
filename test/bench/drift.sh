#!/usr/bin/env bash
# What drift recording costs one DDL statement (as root, like run.sh):
#
#   test/bench/drift.sh
#   PAIRS=2000 REPS=7 test/bench/drift.sh      (the defaults)
#
# On the benchmark's own cluster (common.sh: default settings, durable
# commits), two databases made from the same template, one with
# morgenmigrate.drift_enable() and one without, run the same PAIRS pairs of
# "CREATE TABLE t (id int)" / "DROP TABLE t" with psql: once with a
# transaction per statement (what a person at psql does) and once in one
# transaction (no commit per statement), timing the wall clock and the
# backend's CPU time.  The
# repetitions interleave the databases (alternating which goes first) so
# that a slow minute of the machine hits both; the drift table is emptied
# after each run.  Prints the medians and the cost per DDL statement and
# writes them to test/bench/results/drift.md.
set -euo pipefail
shopt -s inherit_errexit
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
need_root "$@"

PAIRS=${PAIRS:-2000}
REPS=${REPS:-7}
results=$bench/results
mkdir -p "$results"
tmp=$(mktemp -d /var/tmp/mm-bench-drift.XXXXXX)
chmod 755 "$tmp"
trap 'stop_cluster final; rm -rf "$tmp"' EXIT

install_extension
start_cluster
for db in drift_on drift_off; do
	q -d postgres -c "CREATE DATABASE $db TEMPLATE mmbench_tpl"
done
q -d drift_on -c "SELECT morgenmigrate.drift_enable()"

ddl=$BENCH_PGDIR/drift_ddl.sql
for ((i = 1; i <= PAIRS; i++)); do
	printf 'CREATE TABLE drift_bench_%d (id int);\nDROP TABLE drift_bench_%d;\n' "$i" "$i"
done >"$ddl"
chmod a+r "$ddl"

# Runs the workload in database $1 (in one transaction if $2 is
# "single"), prints the wall time and the backend's CPU time
# (/proc/PID/schedstat, as run.sh reads it: far less disturbed by other
# load than the wall time) in ms; checks that drift_on recorded each
# statement and drift_off none.
run_once() {
	local db=$1 mode=$2 t0 t1 cpu rows want=0
	q -d "$db" -c "CHECKPOINT"
	t0=$(now_us)
	{
		echo 'SELECT pg_backend_pid() AS pid \gset'
		echo '\setenv MMPID :pid'
		echo "\\! cat /proc/\$MMPID/schedstat > $tmp/cpu0"
		[ "$mode" = single ] && echo 'BEGIN;'
		echo "\\i $ddl"
		[ "$mode" = single ] && echo 'COMMIT;'
		echo "\\! cat /proc/\$MMPID/schedstat > $tmp/cpu1"
	} | q -d "$db" -f - >/dev/null
	t1=$(now_us)
	cpu=$(awk 'NR == FNR { t0 = $1; next } { printf "%d", ($1 - t0) / 1e6 }' "$tmp/cpu0" "$tmp/cpu1")
	rows=$(q -At -d "$db" -c "SELECT count(*) FROM morgenmigrate.drift")
	[ "$db" = drift_on ] && want=$((2 * PAIRS))
	if [ "$rows" != "$want" ]; then
		echo "$db recorded $rows drift rows, not $want" >&2
		exit 1
	fi
	q -d "$db" -c "TRUNCATE morgenmigrate.drift"
	echo "$(((t1 - t0) / 1000)) $cpu"
}

# The median of the numbers given.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

declare -A wall cpu
for ((rep = 1; rep <= REPS; rep++)); do
	for mode in autocommit single; do
		order="drift_on drift_off"
		[ $((rep % 2)) = 0 ] && order="drift_off drift_on"
		for db in $order; do
			res=$(run_once "$db" "$mode")
			read -r w c <<<"$res"
			wall[$mode.$db]="${wall[$mode.$db]:-} $w"
			cpu[$mode.$db]="${cpu[$mode.$db]:-} $c"
			say "rep $rep $mode $db: $w ms wall, $c ms backend CPU"
		done
	done
done

{
	echo "Drift recording, $PAIRS CREATE TABLE / DROP TABLE pairs ($((2 * PAIRS)) DDL statements), median of $REPS interleaved runs, PostgreSQL $PG_MAJOR, $(nproc) cores, $(date -u +%Y-%m-%d):"
	echo
	echo "| transactions | time | drift off | drift on | cost per DDL statement |"
	echo "|---|---|---:|---:|---:|"
	for mode in autocommit single; do
		label="one per statement"
		[ "$mode" = single ] && label="one for all"
		for what in wall cpu; do
			declare -n m=$what
			# shellcheck disable=SC2086
			off=$(median ${m[$mode.drift_off]})
			# shellcheck disable=SC2086
			on=$(median ${m[$mode.drift_on]})
			printf '| %s | %s | %d ms | %d ms | %s us (%s%%) |\n' "$label" \
				"$([ $what = wall ] && echo wall || echo "backend CPU")" "$off" "$on" \
				"$(awk -v a="$on" -v b="$off" -v n=$((2 * PAIRS)) 'BEGIN {printf "%.0f", (a - b) * 1000 / n}')" \
				"$(awk -v a="$on" -v b="$off" 'BEGIN {printf "%+.0f", (a - b) * 100 / b}')"
			unset -n m
		done
	done
	echo
	echo "Samples, wall ms: $(for k in "${!wall[@]}"; do printf '%s:%s; ' "$k" "${wall[$k]}"; done)"
	echo "Samples, backend CPU ms: $(for k in "${!cpu[@]}"; do printf '%s:%s; ' "$k" "${cpu[$k]}"; done)"
	echo "Each drift_on run recorded $((2 * PAIRS)) rows, each drift_off run none."
} | tee "$results/drift.md"
