#!/usr/bin/env bash
# What a migration costs the application: one command, as root.
#
#   test/bench/availability.sh
#   REPS=5 HOLD=4 test/bench/availability.sh      (the defaults)
#
# On its own PostgreSQL cluster (the same kind as run.sh's: a private copy
# of PostgreSQL 15 holding this tree's build, default settings, a unix
# socket only, $BENCH_PGDIR, port $BENCH_PORT), for each runner and
# repetition, on a fresh database holding a table "accounts" of ROWS rows:
#
#   t=0        pgbench starts a steady load of short queries on accounts
#              (a primary-key SELECT and a primary-key UPDATE, RATE per
#              second in all from CLIENTS clients, for DURATION seconds)
#   t=LEAD     another session opens a transaction that reads accounts
#              and stays open HOLD seconds (a report, a slow request):
#              it holds ACCESS SHARE, which the load does not mind
#   t=LEAD+0.5 the runner applies one migration, ALTER TABLE accounts ADD
#              COLUMN, which needs ACCESS EXCLUSIVE: it waits for the
#              reader, and while it waits every later query on accounts
#              queues behind it
#
# and reports, from pgbench's per-transaction log, the latency (from the
# transaction's scheduled start, so queueing counts) of the transactions
# that overlapped the migration (from its start to its end): p50, p99 and
# max, their throughput, and the migration's own wall time and outcome.
# Runners (interleaved within a repetition, medians over repetitions):
#
#   psql       psql -1 -f on the file
#   dbmate     dbmate migrate (npm; a transaction per file)
#   mm_off     migrate_apply with morgenmigrate.lock_timeout = 0 and
#              morgenmigrate.lock_retries = 0: no lock limit at all (what
#              morgenmigrate 1.0 did for a file without directives)
#   mm         migrate_apply of the same file, no directive: the settings'
#              defaults
#   mm_dir     migrate_apply of the file with the directive
#              "-- morgenmigrate: lock_timeout=100ms retries=40"
#
# Writes test/bench/results/availability.md (raw samples in
# availability.tsv) and prints it.  Every command is bounded: pgbench by
# DURATION, a migration by MIGRATION_TIMEOUT seconds.
#
# Settings: REPS (5), RUNNERS ("psql dbmate mm_off mm mm_dir"), HOLD (4),
# LEAD (1), DURATION (HOLD + 8), RATE (200), CLIENTS (4), ROWS (10000),
# MIGRATION_TIMEOUT (150), SKIP_INSTALL (0), BENCH_PGDIR
# (/var/tmp/mm-avail-pg), BENCH_PORT (5514), BENCH_CACHE
# (/var/tmp/mm-bench-cache), MM_WORK (/var/tmp/mm-avail).
set -euo pipefail
shopt -s inherit_errexit
BENCH_PGDIR=${BENCH_PGDIR:-/var/tmp/mm-avail-pg}
BENCH_PORT=${BENCH_PORT:-5514}
MM_WORK=${MM_WORK:-/var/tmp/mm-avail}
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
need_root "$@"

REPS=${REPS:-5}
RUNNERS=${RUNNERS:-psql dbmate mm_off mm mm_dir}
HOLD=${HOLD:-4}
LEAD=${LEAD:-1}
DURATION=${DURATION:-$((HOLD + 8))}
RATE=${RATE:-200}
CLIENTS=${CLIENTS:-4}
ROWS=${ROWS:-10000}
MIGRATION_TIMEOUT=${MIGRATION_TIMEOUT:-150}
results=$bench/results
mkdir -p "$results"
raw=$results/availability.tsv
tmp=$(mktemp -d /var/tmp/mm-avail-run.XXXXXX)
chmod 755 "$tmp"
skipped=""
loadpid=""
holderpid=""

cleanup() {
	[ -n "$loadpid" ] && kill "$loadpid" 2>/dev/null
	[ -n "$holderpid" ] && kill "$holderpid" 2>/dev/null
	stop_cluster final
	rm -rf "$tmp"
}
trap cleanup EXIT

wants() { case " $RUNNERS " in *" $1 "*) return 0 ;; esac; return 1; }

# The migration, as each runner reads it: a plain file, dbmate's copy
# and the copy with morgenmigrate's directive.
write_migrations() {
	local m=$sets/avail
	rm -rf "$m"
	mkdir -p "$m/plain" "$m/dbmate" "$m/directive"
	echo 'ALTER TABLE accounts ADD COLUMN note text;' >"$m/plain/0001_accounts_note.sql"
	printf -- '-- migrate:up\nALTER TABLE accounts ADD COLUMN note text;\n\n-- migrate:down\n' \
		>"$m/dbmate/0001_accounts_note.sql"
	printf -- '-- morgenmigrate: lock_timeout=100ms retries=40\nALTER TABLE accounts ADD COLUMN note text;\n' \
		>"$m/directive/0001_accounts_note.sql"
	# pgbench's script: the application's short queries
	cat >"$m/load.sql" <<-SQL
	\\set id random(1, $ROWS)
	SELECT balance FROM accounts WHERE id = :id;
	UPDATE accounts SET balance = balance + 1 WHERE id = :id;
	SQL
	chmod -R a+rX "$sets"
}

# psql as q runs it, given at most MIGRATION_TIMEOUT seconds.
tq() { timeout "$MIGRATION_TIMEOUT" psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# Applies the migration with one runner.
migrate_with() {
	local m=$sets/avail
	case $1 in
		psql) tq -1 -d "$DB" -f "$m/plain/0001_accounts_note.sql" ;;
		dbmate) timeout "$MIGRATION_TIMEOUT" "$DBMATE" --url "postgres://postgres@/$DB?socket=$PGHOST&port=$PGPORT&sslmode=disable" \
			--migrations-dir "$m/dbmate" --no-dump-schema migrate >/dev/null ;;
		mm_off) PGOPTIONS="$PGOPTIONS -c morgenmigrate.lock_timeout=0 -c morgenmigrate.lock_retries=0" \
			tq -d "$DB" -o /dev/null -c "SELECT * FROM morgenmigrate.migrate_apply('$m/plain')" ;;
		mm) tq -d "$DB" -o /dev/null -c "SELECT * FROM morgenmigrate.migrate_apply('$m/plain')" ;;
		mm_dir) tq -d "$DB" -o /dev/null -c "SELECT * FROM morgenmigrate.migrate_apply('$m/directive')" ;;
	esac
}

# Waits (at most 10 s) until a session other than ours holds a lock on
# accounts.
wait_for_holder() {
	local i
	for i in $(seq 1 100); do
		[ "$(q -d "$DB" -Atc "SELECT count(*) FROM pg_locks WHERE relation = 'accounts'::regclass AND pid <> pg_backend_pid() AND granted")" != 0 ] && return 0
		sleep 0.1
	done
	echo "error: the long transaction did not get its lock on accounts" >&2
	exit 1
}

# One run of the scenario with one runner; adds its samples to raw.
scenario() {
	local runner=$1 rep=$2 t0 t1 status log=$tmp/pgbench
	fresh_db
	q -d "$DB" -c "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL DEFAULT 0)" \
		-c "INSERT INTO accounts (id) SELECT generate_series(1, $ROWS)" -c "VACUUM ANALYZE accounts"
	rm -f "$log".*
	(cd "$tmp" && exec "$PG_BIN/pgbench" -n -f "$sets/avail/load.sql" -c "$CLIENTS" -j 2 \
		-R "$RATE" -T "$DURATION" -l --log-prefix=pgbench -d "$DB" >"$tmp/pgbench.out" 2>&1) &
	loadpid=$!
	sleep "$LEAD"
	q -d "$DB" -c "BEGIN" -c "SELECT count(*) FROM accounts" -c "SELECT pg_sleep($HOLD)" -c "COMMIT" >/dev/null &
	holderpid=$!
	wait_for_holder
	sleep 0.5
	t0=$(now_us)
	if migrate_with "$runner" >"$tmp/migration.out" 2>&1; then
		status=ok
	else
		status=failed
	fi
	t1=$(now_us)
	wait "$holderpid" || true
	holderpid=""
	wait "$loadpid" || { echo "error: pgbench failed: $(tail -3 "$tmp/pgbench.out")" >&2; exit 1; }
	loadpid=""
	if [ "$status" = ok ] &&
		[ "$(q -d "$DB" -Atc "SELECT count(*) FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'note'")" != 1 ]; then
		status=failed
	fi
	[ "$status" = ok ] || { printf '    %s: the migration failed: %s\n' "$runner" "$(tail -2 "$tmp/migration.out" | tr '\n' ' ')"; }
	perl -e '
		my ($t0, $t1, $runner, $status) = splice(@ARGV, 0, 4);
		my (@lat, $done);
		for my $f (@ARGV)
		{
			open(my $fh, "<", $f) or die "$f: $!";
			while (<$fh>)
			{
				my @c = split;
				my $end = $c[4] * 1e6 + $c[5];
				my $start = $end - $c[2];
				next if $end < $t0 || $start > $t1;
				push @lat, $c[2] / 1000;
				$done++ if $end <= $t1;
			}
		}
		@lat = sort { $a <=> $b } @lat;
		die "no transaction overlapped the migration\n" unless @lat;
		my $pct = sub { $lat[ int(($#lat) * $_[0] + 0.5) ] };
		printf "%s\tp50\t%.3f\n%s\tp99\t%.3f\n%s\tmax\t%.3f\n", $runner, $pct->(0.5),
		  $runner, $pct->(0.99), $runner, $lat[-1];
		printf "%s\ttps\t%.1f\n%s\tmigration\t%.3f\n%s\tok\t%d\n", $runner,
		  ($done // 0) / (($t1 - $t0) / 1e6), $runner, ($t1 - $t0) / 1000,
		  $runner, $status eq "ok" ? 1 : 0;
	' "$t0" "$t1" "$runner" "$status" "$log".* | tee -a "$raw" |
		awk -v rep="$rep" -v r="$runner" '{ v[$2] = $3 }
			END { printf "  rep %d  %-7s p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms  %6.1f tps  migration %7.1f ms%s\n",
				rep, r, v["p50"], v["p99"], v["max"], v["tps"], v["migration"], v["ok"] ? "" : "  FAILED" }'
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
install_extension
wants dbmate && setup_dbmate
start_cluster
[ -x "$PG_BIN/pgbench" ] || { echo "error: $PG_BIN/pgbench is missing (Debian's postgresql-$PG_MAJOR ships it)" >&2; exit 1; }
write_migrations
: >"$raw"
for rep in $(seq 1 "$REPS"); do
	say "repetition $rep of $REPS"
	for runner in $RUNNERS; do
		scenario "$runner" "$rep"
	done
done

say "report"
cmd="sudo"
for v in REPS RUNNERS HOLD RATE CLIENTS; do
	cmd="$cmd $v=\"${!v}\""
done
{
	echo "# Availability during a migration"
	echo
	echo "machine: $(nproc) cores, $(uname -sr), $(q -d postgres -Atc 'SELECT version()' | cut -d, -f1), default settings;"
	echo "load average before the run: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "morgenmigrate: $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$here" diff --quiet HEAD -- src 2>/dev/null || echo ' with uncommitted changes in src/')"
	wants dbmate && echo "dbmate: $("$DBMATE" --version 2>&1 | head -1)"
	echo "load: pgbench, $CLIENTS clients, $RATE transactions/s (a primary-key SELECT and UPDATE on $ROWS rows); a transaction reading the table stays open ${HOLD} s; the migration (ALTER TABLE ... ADD COLUMN) starts 0.5 s into it"
	echo "reproduce: $cmd test/bench/availability.sh"
	echo "reps: $REPS (medians), date: $(date -u +%Y-%m-%dT%H:%MZ)"
	printf '%s' "$skipped"
	echo
	echo "Latency of the load's transactions that overlapped the migration (from its start to its end, counted from each transaction's scheduled start), their throughput, and the migration's wall time:"
	echo
	echo "| runner | p50 | p99 | max | throughput | migration | applied |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	perl -e '
		my %v;
		open(my $fh, "<", $ARGV[0]) or die;
		while (<$fh>) { chomp; my ($r, $m, $x) = split /\t/; push @{ $v{$r}{$m} }, $x; }
		my %name = (psql => "`psql -1 -f`", dbmate => "dbmate migrate",
			mm_off => "migrate_apply, no limit (settings 0)",
			mm => "migrate_apply, no directive (the defaults)",
			mm_dir => "migrate_apply, `lock_timeout=100ms retries=40`");
		sub med { my @s = sort { $a <=> $b } @_; my $m = int(@s / 2); @s % 2 ? $s[$m] : ($s[$m - 1] + $s[$m]) / 2 }
		sub ms { my $x = shift; $x >= 1000 ? sprintf("%.2f s", $x / 1000) : sprintf("%.1f ms", $x) }
		for my $r (split " ", $ARGV[1])
		{
			next unless $v{$r};
			my %m = map { $_ => med(@{ $v{$r}{$_} }) } keys %{ $v{$r} };
			my $ok = 0; $ok += $_ for @{ $v{$r}{ok} };
			printf "| %s | %s | %s | %s | %.0f/s | %s | %d of %d |\n", $name{$r}, ms($m{p50}),
			  ms($m{p99}), ms($m{max}), $m{tps}, ms($m{migration}), $ok, scalar @{ $v{$r}{ok} };
		}
	' "$raw" "$RUNNERS"
} >"$results/availability.md"
cat "$results/availability.md"
