#!/usr/bin/env bash
# What one call costs in a new session: the only call a deploy script or a
# pg_cron job makes.  Whole processes are timed, with the real psql binary
# of the PostgreSQL measured ($(pg_config --bindir)/psql: on Debian,
# /usr/bin/psql is a Perl wrapper that adds some 40 ms to every process).
#
#   test/bench/session.sh
#   VERSIONS="1.0=9ac6c7a~1 1.1=f848c0d now=HEAD" NS="100 1000 10000" REPS=21 test/bench/session.sh
#
# Each version (LABEL=COMMIT) is built from that commit into a copy of
# PostgreSQL of its own and runs its own cluster (ports BENCH_PORT and up),
# so that versions never share a library.  For each N, gen.pl's set of N
# files is recorded as applied in each version's history (the rows
# migrate_baseline writes: the no-op path is the same as after
# migrate_apply, without minutes of applying), and dbmate's copy of the set (the same files under
# "-- migrate:up") is recorded in dbmate's own schema_migrations table.
# Then REPS rounds, each timing, in an order that rotates from round to
# round, as whole processes:
#
#   bare            psql -c 'SELECT 1' (what any client pays)
#   LABEL apply     psql -c "SELECT * FROM migrate_apply(dir)" (nothing to do)
#   LABEL long      the same apply after the directory's proof was deleted
#                   (untimed): what a new session's first no-op call after
#                   any change costs, the long way, keeping the proof again
#                   (the same as apply for a version without proofs)
#   LABEL status    psql -c "SELECT * FROM migrate_status(dir)"
#   LABEL check     psql -c "SELECT migrate_check(dir)" (all applied: it
#                   passes; what a readiness probe pays per connection)
#   LABEL 1st, 2nd  one psql session making two no-op migrate_apply calls,
#                   as \timing shows them (the first loads the library and
#                   reads every file; the second is what a pooled
#                   connection's later calls cost)
#   rows            psql -c "SELECT filename, kind, applied_at, duration,
#                   checksum, NULL FROM schema_migrations" (the first
#                   version's): the N rows of migrate_status's shape,
#                   received and aligned by psql, which is what status
#                   costs the client beyond a no-op apply: "apply + rows -
#                   bare" is the least a status call can cost
#   query           one psql session (the first version's) making the
#                   same plain query twice, as \timing shows them: a look-up
#                   of the history by its key; its 1st / 2nd is what a
#                   new backend's first look at a table and its index
#                   costs any statement, the floor under a first call's
#                   "1st / 2nd" (which also loads the library)
#   dbmate          dbmate migrate with nothing to do
#   list, list0     liststat.c listing the set and stat()ing every file,
#                   and the same on an empty directory (its own start):
#                   list - list0 is what only proving that no file changed
#                   costs, the floor under any call that stat()s each file,
#                   and "bare + list - list0" the least a new session's call
#                   can cost as a whole process
#
# and writes results/session.md: medians, and paired ratios (the median of
# each round's ratio, which a slow moment of the shared machine hits on
# both sides alike).
#
# Settings: VERSIONS ("1.1=f848c0d now=HEAD"), NS ("100 1000 10000"), REPS
# (21), BENCH_PGDIR (/var/tmp/mm-bench-session), BENCH_PORT (5520),
# BENCH_CACHE (/var/tmp/mm-bench-cache: npm packages).
set -euo pipefail
shopt -s inherit_errexit
BENCH_PGDIR=${BENCH_PGDIR:-/var/tmp/mm-bench-session}
BENCH_PORT=${BENCH_PORT:-5520}
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
need_root "$@"

VERSIONS=${VERSIONS:-1.1=f848c0d now=HEAD}
NS=${NS:-100 1000 10000}
REPS=${REPS:-21}
results=$bench/results
mkdir -p "$results" "$BENCH_PGDIR"
chown postgres:postgres "$BENCH_PGDIR"
raw=$results/session.tsv
tmp=$(mktemp -d /var/tmp/mm-bench-session.XXXXXX)
chmod 755 "$tmp"
skipped=""
RUNNERS=dbmate

labels=()
declare -A port=() bindir=()

# Stops every cluster of this run.
cleanup() {
	local l
	for l in "${labels[@]}"; do
		runuser -u postgres -- "${bindir[$l]}/pg_ctl" -D "$BENCH_PGDIR/data-$l" -m fast -w stop >/dev/null 2>&1 || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# Builds COMMIT into PostgreSQL's copy root-LABEL and starts its cluster.
setup_version() {
	local label=$1 commit=$2 p=$3 src=$BENCH_PGDIR/src-$1 root=$BENCH_PGDIR/root-$1
	say "version $label: $commit ($(git -C "$here" rev-parse --short "$commit"))"
	rm -rf "$src"
	mkdir -p "$src"
	git -C "$here" archive "$commit" | tar -x -C "$src"
	chown -R postgres:postgres "$src"
	private_postgres "$root" >/dev/null
	runuser -u postgres -- make -C "$src" -s PG_CONFIG="$PG_CONFIG" >/dev/null
	make -C "$src" -s install PG_CONFIG="$PG_CONFIG" >/dev/null
	bindir[$label]=$PG_BIN
	port[$label]=$p
	rm -rf "$BENCH_PGDIR/data-$label"
	runuser -u postgres -- "$PG_BIN/initdb" -D "$BENCH_PGDIR/data-$label" -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
	cat >>"$BENCH_PGDIR/data-$label/postgresql.conf" <<-CONF
	port = $p
	listen_addresses = ''
	unix_socket_directories = '$BENCH_PGDIR'
	max_locks_per_transaction = 1024
	CONF
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$BENCH_PGDIR/data-$label" -l "$BENCH_PGDIR/server-$label.log" -w start >/dev/null
	labels+=("$label")
}

# psql of version LABEL, its real binary.
vq() { local l=$1; shift; "${bindir[$l]}/psql" -X -q -v ON_ERROR_STOP=1 -p "${port[$l]}" "$@"; }

# Records set N as applied in database sN of every version, and in
# dbmate's database dbmateN of the first version's cluster.
record_set() {
	local n=$1 l first=${labels[0]} f
	for l in "${labels[@]}"; do
		vq "$l" -d postgres -c "CREATE DATABASE s$n"
		# the rows migrate_baseline would write (whose 1.0 crashes at 10,000
		# files): the files are LF-only UTF-8 without a BOM, so their
		# checksum is the SHA-256 of their bytes
		vq "$l" -d "s$n" -c "CREATE EXTENSION morgenmigrate" -c "
			INSERT INTO morgenmigrate.schema_migrations
				(filename, applied_at, checksum, duration, applied_by, kind)
			SELECT f, clock_timestamp(),
				   encode(sha256(pg_read_binary_file('$sets/n$n/' || f)), 'hex'),
				   '0', current_user, 'baseline'
			  FROM pg_ls_dir('$sets/n$n') AS f WHERE f LIKE '%.sql'" >/dev/null
	done
	vq "$first" -d postgres -c "CREATE DATABASE dbmate$n"
	{
		echo "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);"
		echo "COPY schema_migrations FROM STDIN;"
		for f in "$sets/dbmate$n"/*.sql; do
			f=${f##*/}
			echo "${f%%_*}"
		done
		echo '\.'
	} | vq "$first" -d "dbmate$n" -f - >/dev/null
	# the files must be older than the racy margin of a session's cache
	sleep 3
}

# Milliseconds a command took, as a whole process.
timed() {
	local t0 t1
	t0=$(now_us)
	"$@" >/dev/null
	t1=$(now_us)
	echo $(((t1 - t0) / 1000)).$(((t1 - t0) % 1000 / 100))
}

# One measurement: prints "NAME N MS" lines into the raw file.
measure() {
	local name=$1 n=$2 l ms first second
	case $name in
		bare) ms=$(timed vq "${labels[0]}" -d postgres -c 'SELECT 1') ;;
		list) ms=$(timed "$tmp/liststat" "$sets/n$n") ;;
		rows) ms=$(timed vq "${labels[0]}" -d "s$n" -c "SELECT filename, kind, applied_at, duration, checksum, NULL::text AS error FROM morgenmigrate.schema_migrations") ;;
		list0) ms=$(timed "$tmp/liststat" "$tmp/empty") ;;
		dbmate) ms=$(timed "$DBMATE" --url "postgres://postgres@/dbmate$n?socket=$BENCH_PGDIR&port=${port[${labels[0]}]}&sslmode=disable" \
				--migrations-dir "$sets/dbmate$n" --no-dump-schema migrate) ;;
		*:apply) l=${name%:*}; ms=$(timed vq "$l" -d "s$n" -c "SELECT * FROM morgenmigrate.migrate_apply('$sets/n$n')") ;;
		*:status) l=${name%:*}; ms=$(timed vq "$l" -d "s$n" -c "SELECT * FROM morgenmigrate.migrate_status('$sets/n$n')") ;;
		*:check) l=${name%:*}; ms=$(timed vq "$l" -d "s$n" -c "SELECT morgenmigrate.migrate_check('$sets/n$n')") ;;
		*:long)
			l=${name%:*}
			# the directory's proof deleted first, untimed (a version without
			# one has nothing to delete): the way a call goes after any change
			vq "$l" -d "s$n" -c "DELETE FROM morgenmigrate.file_fingerprints WHERE filename = ''" >/dev/null 2>&1 || true
			ms=$(timed vq "$l" -d "s$n" -c "SELECT * FROM morgenmigrate.migrate_apply('$sets/n$n')")
			;;
		query)
			read -r first second < <(printf '%s\n' '\o /dev/null' '\timing on' \
				"SELECT * FROM morgenmigrate.schema_migrations WHERE filename = '0001';" \
				"SELECT * FROM morgenmigrate.schema_migrations WHERE filename = '0001';" |
				vq "${labels[0]}" -d "s$n" -f - | awk '/^Time: / { printf "%s ", $2 } END { print "" }')
			printf 'query:1st\t%s\t%s\nquery:2nd\t%s\t%s\n' "$n" "$first" "$n" "$second" >>"$raw"
			return
			;;
		*:calls)
			l=${name%:*}
			read -r first second < <(printf '%s\n' '\o /dev/null' '\timing on' \
				"SELECT * FROM morgenmigrate.migrate_apply('$sets/n$n');" \
				"SELECT * FROM morgenmigrate.migrate_apply('$sets/n$n');" |
				vq "$l" -d "s$n" -f - | awk '/^Time: / { printf "%s ", $2 } END { print "" }')
			printf '%s:1st\t%s\t%s\n%s:2nd\t%s\t%s\n' "$l" "$n" "$first" "$l" "$n" "$second" >>"$raw"
			return
			;;
	esac
	printf '%s\t%s\t%s\n' "$name" "$n" "$ms" >>"$raw"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
install_packages
setup_dbmate
[ -n "$DBMATE" ] || echo "dbmate: $skipped"
i=0
for v in $VERSIONS; do
	setup_version "${v%%=*}" "${v#*=}" $((BENCH_PORT + i))
	i=$((i + 1))
done

say "generating the migration sets"
# shellcheck disable=SC2086
generate_sets $NS
for n in $NS; do
	dbmate_set "$n"
	chmod -R a+rX "$sets"
	record_set "$n"
done

mkdir -p "$tmp/empty"
cc -O2 -o "$tmp/liststat" "$bench/liststat.c"
names=(bare list list0 rows query)
[ -n "$DBMATE" ] && names+=(dbmate)
for l in "${labels[@]}"; do
	names+=("$l:apply" "$l:long" "$l:status" "$l:check" "$l:calls")
done
: >"$raw"
for rep in $(seq 1 "$REPS"); do
	say "round $rep of $REPS"
	for n in $NS; do
		# the order rotates, so that no one always comes first
		for k in $(seq 0 $((${#names[@]} - 1))); do
			measure "${names[$(((k + rep) % ${#names[@]}))]}" "$n"
		done
	done
done

cmd="sudo VERSIONS=\"$VERSIONS\" NS=\"$NS\" REPS=$REPS test/bench/session.sh"
{
	echo "machine: $(nproc) cores, $(uname -sr), $(vq "${labels[0]}" -d postgres -Atc 'SELECT version()' | cut -d, -f1)"
	echo "load average before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
	for v in $VERSIONS; do
		echo "version ${v%%=*}: $(git -C "$here" rev-parse --short "${v#*=}")"
	done
	[ -n "$DBMATE" ] && echo "dbmate: $("$DBMATE" --version 2>&1 | head -1)"
	echo "reproduce: $cmd"
	echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
} >"$tmp/meta"
perl - "$raw" "$tmp/meta" "$NS" "${labels[*]}" >"$results/session.md" <<'PERL'
use strict;
use warnings;
my ($raw, $meta, $ns, $labels) = @ARGV;
my @ns = split ' ', $ns;
my @labels = split ' ', $labels;
my (%s, %round);
open my $fh, '<', $raw or die;
my %seen;
while (<$fh>)
{
	chomp;
	my ($name, $n, $ms) = split /\t/;
	next unless defined $ms && $ms ne '';
	push @{ $s{$name}{$n} }, $ms;
}
sub median { my @v = sort { $a <=> $b } @_; return @v ? $v[$#v / 2] : undef }
# paired ratios: the k-th sample of a against the k-th of b (the same round)
sub ratio
{
	my ($a, $b, $n) = @_;
	my ($x, $y) = ($s{$a}{$n}, $s{$b}{$n});
	return undef unless $x && $y;
	my @r = map { $y->[$_] > 0 ? $x->[$_] / $y->[$_] : () } 0 .. ($#$x < $#$y ? $#$x : $#$y);
	return median(@r);
}
# ratio, with a the sum of several measurements of the same round, each
# added ('+name') or taken away ('-name')
sub ratio_sum
{
	my ($terms, $b, $n) = @_;
	my @x = map { $s{ substr($_, 1) }{$n} } @$terms;
	my $y = $s{$b}{$n};
	return undef if grep { !$_ } @x, $y;
	my $last = (sort { $a <=> $b } map { $#$_ } @x, $y)[0];
	my @r;
	for my $k (0 .. $last)
	{
		my $sum = 0;
		$sum += (substr($terms->[$_], 0, 1) eq '-' ? -1 : 1) * $x[$_][$k] for 0 .. $#x;
		push @r, $sum / $y->[$k] if $y->[$k] > 0;
	}
	return median(@r);
}
open my $m, '<', $meta or die;
print "# A new session's call\n\n```\n", <$m>, "```\n\n";
print "Medians in ms (whole processes with the real psql binary, or as \\timing shows a call):\n\n";
print "| | ", join(' | ', map { "N=$_" } @ns), " |\n|---|", join('', map { '---:|' } @ns), "\n";
my @rows = ('bare', 'list', 'list0', 'rows', 'query:1st', 'query:2nd', (exists $s{dbmate} ? 'dbmate' : ()),
	map { ("$_:apply", "$_:long", "$_:status", "$_:check", "$_:1st", "$_:2nd") } @labels);
for my $r (@rows)
{
	print "| $r | ", join(' | ', map { my $v = median(@{ $s{$r}{$_} || [] }); defined $v ? sprintf('%.1f', $v) : '-' } @ns), " |\n";
}
print "\nPaired ratios (median of each round's ratio):\n\n";
print "| | ", join(' | ', map { "N=$_" } @ns), " |\n|---|", join('', map { '---:|' } @ns), "\n";
my @pairs;
push @pairs, [ "floor: (bare + list - list0) / dbmate", [ '+bare', '+list', '-list0' ], 'dbmate' ] if exists $s{dbmate};
push @pairs, [ "floor: (bare + list - list0) / bare psql", [ '+bare', '+list', '-list0' ], 'bare' ];
push @pairs, [ "a plain query's 1st / 2nd in a session", 'query:1st', 'query:2nd' ];
for my $l (@labels)
{
	push @pairs, [ "$l apply / dbmate", "$l:apply", 'dbmate' ] if exists $s{dbmate};
	push @pairs, [ "$l apply / bare psql", "$l:apply", 'bare' ];
	push @pairs, [ "$l long / $l apply", "$l:long", "$l:apply" ];
	push @pairs, [ "$l status / $l apply", "$l:status", "$l:apply" ];
	push @pairs, [ "$l check / $l apply", "$l:check", "$l:apply" ];
	push @pairs, [ "floor under status: ($l apply + rows - bare) / $l apply", [ "+$l:apply", '+rows', '-bare' ], "$l:apply" ];
	push @pairs, [ "$l 1st call / 2nd call", "$l:1st", "$l:2nd" ];
}
for my $i (0 .. $#labels - 1)
{
	for my $j ($i + 1 .. $#labels)
	{
		push @pairs, [ "$labels[$j] apply / $labels[$i] apply", "$labels[$j]:apply", "$labels[$i]:apply" ];
	}
}
for my $p (@pairs)
{
	print "| $p->[0] | ", join(' | ', map {
		my $v = ref $p->[1] ? ratio_sum($p->[1], $p->[2], $_) : ratio($p->[1], $p->[2], $_);
		defined $v ? sprintf('%.2f', $v) : '-' } @ns), " |\n";
}
PERL
cat "$results/session.md"
