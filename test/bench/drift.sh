#!/usr/bin/env bash
# What drift recording costs one DDL statement (as root, like run.sh):
#
#   test/bench/drift.sh
#   PAIRS=2000 REPS=7 test/bench/drift.sh      (the defaults)
#
# On the benchmark's own cluster (common.sh: default settings, durable
# commits), two databases made from the same template, one with
# morgenmigrate.drift_enable() and one without, run the same PAIRS pairs of
# "CREATE TABLE t (id int)" / "DROP TABLE t" with psql -f: once with a
# transaction per statement (what a person at psql does) and once in one
# transaction (psql -1: only the CPU cost, no commit per statement).  The
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
trap 'stop_cluster final' EXIT

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

# Runs the workload in database $1 (psql options in $2), prints ms;
# checks that drift_on recorded each statement and drift_off none.
run_once() {
	local db=$1 opts=$2 t0 t1 rows want=0
	q -d "$db" -c "CHECKPOINT"
	t0=$(now_us)
	# shellcheck disable=SC2086
	q -d "$db" $opts -f "$ddl"
	t1=$(now_us)
	rows=$(q -At -d "$db" -c "SELECT count(*) FROM morgenmigrate.drift")
	[ "$db" = drift_on ] && want=$((2 * PAIRS))
	if [ "$rows" != "$want" ]; then
		echo "$db recorded $rows drift rows, not $want" >&2
		exit 1
	fi
	q -d "$db" -c "TRUNCATE morgenmigrate.drift"
	echo $(((t1 - t0) / 1000))
}

# The median of the numbers given.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

declare -A samples
for ((rep = 1; rep <= REPS; rep++)); do
	for mode in autocommit single; do
		opts=""
		[ "$mode" = single ] && opts="-1"
		order="drift_on drift_off"
		[ $((rep % 2)) = 0 ] && order="drift_off drift_on"
		for db in $order; do
			ms=$(run_once "$db" "$opts")
			samples[$mode.$db]="${samples[$mode.$db]:-} $ms"
			say "rep $rep $mode $db: $ms ms"
		done
	done
done

{
	echo "Drift recording, $PAIRS CREATE TABLE / DROP TABLE pairs ($((2 * PAIRS)) DDL statements), median of $REPS interleaved runs, PostgreSQL $PG_MAJOR, $(nproc) cores, $(date -u +%Y-%m-%d):"
	echo
	echo "| transactions | drift off | drift on | cost per DDL statement |"
	echo "|---|---:|---:|---:|"
	for mode in autocommit single; do
		# shellcheck disable=SC2086
		off=$(median ${samples[$mode.drift_off]})
		# shellcheck disable=SC2086
		on=$(median ${samples[$mode.drift_on]})
		label="one per statement"
		[ "$mode" = single ] && label="one for all (psql -1)"
		printf '| %s | %d ms | %d ms | %s us (%s%%) |\n' "$label" "$off" "$on" \
			"$(awk -v a="$on" -v b="$off" -v n=$((2 * PAIRS)) 'BEGIN {printf "%.0f", (a - b) * 1000 / n}')" \
			"$(awk -v a="$on" -v b="$off" 'BEGIN {printf "%+.0f", (a - b) * 100 / b}')"
	done
	echo
	echo "Samples (ms): $(for k in "${!samples[@]}"; do printf '%s:%s; ' "$k" "${samples[$k]}"; done)"
	echo "Each drift_on run recorded $((2 * PAIRS)) rows, each drift_off run none."
} | tee "$results/drift.md"
