#!/usr/bin/perl
# Turns the samples of test/bench/run.sh into the markdown report:
#
#   report.pl RAW.tsv MEMORY META "NS" "RUNNERS" SETS_DIR
#
# RAW.tsv: "metric <tab> N <tab> milliseconds" per sample; MEMORY: lines
# "label vmhwm_kb anon_kb shmem_kb"; META: lines printed as they are.
use strict;
use warnings;

my ($rawfile, $memfile, $metafile, $ns, $runners, $sets) = @ARGV;
die "usage: $0 RAW MEMORY META NS RUNNERS SETS\n" unless defined $sets;
my @ns = split ' ', $ns;
my @runners = split ' ', $runners;

my %samples;
open(my $fh, '<', $rawfile) or die "cannot read $rawfile: $!\n";
while (<$fh>)
{
	chomp;
	my ($metric, $n, $ms) = split /\t/;
	push @{ $samples{$metric}{$n} }, $ms if defined $ms && $ms ne '';
}
close($fh);

# Median of a list of numbers.
sub median
{
	my @v = sort { $a <=> $b } @_;
	return undef unless @v;
	my $m = int(@v / 2);
	return @v % 2 ? $v[$m] : ($v[ $m - 1 ] + $v[$m]) / 2;
}

sub stat_of
{
	my ($metric, $n) = @_;
	my $v = $samples{$metric}{$n} or return;
	my @s = sort { $a <=> $b } @$v;
	return (median(@s), $s[0], $s[-1], scalar @s);
}

# A duration for people: ms below 10 s, else s.
sub dur
{
	my ($ms) = @_;
	return '—' unless defined $ms;
	return sprintf('%.2f s', $ms / 1000) if $ms >= 1000;
	return sprintf('%.1f ms', $ms);
}

my %label = (
	limit  => 'the limit: `psql -X -q -1 -f` of the concatenated files',
	apply  => '`SELECT * FROM morgenmigrate.migrate_apply(dir)`',
	run    => '`CALL morgenmigrate.migrate_run(dir)` (a commit per file)',
	session => 'one `psql` session: `BEGIN`, the file, `INSERT`, `COMMIT` per file',
	seeds  => "a raw-SQL runner: `psql -1 -f` per file + `INSERT` into `schema_migrations`",
	dbmate => '`dbmate migrate` (a transaction per file)',
	sqitch => '`sqitch deploy` (psql per change)');

open($fh, '<', $metafile) or die "cannot read $metafile: $!\n";
my @meta = <$fh>;
close($fh);

print "# morgenmigrate benchmark\n\n";
print "```\n", @meta, "```\n\n";

print "## Applying N migrations from empty\n\n";
print "Wall time of the runner's command from the client, on a fresh database each time; "
  . "median [min–max] of the repetitions; ms/file = median / N; ratio = median / the limit's median.\n\n";
# A table of the runners' medians [min-max], ms per file and ratio to the
# limit, for the samples named PREFIX.runner ("" for wall time, "cpu_").
sub runner_table
{
	my ($prefix, @rows) = @_;
	print "| runner |", join('', map { " N=$_ | ms/file | vs limit |" } @ns), "\n";
	print "|---|", join('', map { "---:|---:|---:|" } @ns), "\n";
	for my $r (@rows)
	{
		print "| $label{$r} |";
		for my $n (@ns)
		{
			my ($med, $min, $max) = stat_of("$prefix$r", $n);
			my ($lim) = stat_of("${prefix}limit", $n);
			if (!defined $med)
			{
				print " — | — | — |";
				next;
			}
			printf " %s [%s–%s] | %.2f | %s |", dur($med), dur($min), dur($max), $med / $n,
			  defined $lim ? sprintf('%.2fx', $med / $lim) : '—';
		}
		print "\n";
	}
}

runner_table('', @runners);

if (grep { $samples{"cpu_$_"} } @runners)
{
	print "\n## The backend's CPU time for the same work\n\n";
	print "For the runners that use one backend: nanoseconds on a CPU from /proc/PID/schedstat, read in the session "
	  . "before and after the work (a separate run on a fresh database); other load on the machine disturbs this "
	  . "far less than the wall time.\n\n";
	runner_table('cpu_', grep { $samples{"cpu_$_"} } @runners);
}

print "\n## Nothing to apply: all N applied\n\n";
print "psql's `\\timing` in an open session (after one warm-up call), median of all calls; "
  . "\"new process\" rows are the wall time of the whole command (connection and process start included).\n\n";
print "| what |", join('', map { " N=$_ |" } @ns), " target |\n";
print "|---|", join('', map { "---:|" } @ns), "---|\n";
my @noop = (
	[ 'noop_apply',      '`migrate_apply(dir)`, `\\timing`', '< 50 ms (aim < 20 ms)' ],
	[ 'noop_status',     '`migrate_status(dir)`, `\\timing`', '< 50 ms (aim < 20 ms)' ],
	[ 'noop_apply_conn', '`migrate_apply(dir)`, new `psql -c` process', '' ],
	[ 'noop_run',        '`CALL migrate_run(dir)`, new `psql -c` process', '' ],
	[ 'noop_seeds',      "a raw-SQL runner, new processes", '' ],
	[ 'noop_dbmate',     '`dbmate migrate`, new process', '' ],
	[ 'noop_sqitch',     '`sqitch deploy`, new process', '' ]);
for my $row (@noop)
{
	my ($metric, $what, $target) = @$row;
	next unless $samples{$metric};
	print "| $what |";
	for my $n (@ns)
	{
		my ($med, $min, $max, $count) = stat_of($metric, $n);
		print defined $med ? sprintf(" %s [%s–%s] |", dur($med), dur($min), dur($max)) : " — |";
	}
	print " $target |\n";
}

# file sizes of a set: largest and total, in kB
sub set_size
{
	my ($dir) = @_;
	my ($max, $sum) = (0, 0);
	opendir(my $dh, $dir) or return ('?', '?');
	for my $f (grep { /\.sql$/ } readdir($dh))
	{
		my $s = -s "$dir/$f";
		$max = $s if $s > $max;
		$sum += $s;
	}
	closedir($dh);
	return ($max, $sum);
}

sub kb
{
	my ($k) = @_;
	return sprintf('%.1f MB', $k / 1024) if abs($k) >= 10240;
	return sprintf('%.1f kB', $k) if abs($k) < 10;
	return sprintf('%d kB', $k);
}

my %mem;
if (open($fh, '<', $memfile))
{
	while (<$fh>)
	{
		my ($label, $hwm, $anon, $shmem) = split;
		$mem{$label} = [ $hwm, $anon, $shmem ] if defined $shmem;
	}
	close($fh);
}
my @verdicts;
if (%mem && $mem{select1})
{
	my ($bhwm, $banon) = @{ $mem{select1} };
	print "\n## Backend peak memory\n\n";
	print "VmHWM: the kernel's peak resident set of the backend (it counts the shared buffers the backend touched); "
	  . "RssAnon: its private memory, sampled every 2 ms (the kernel keeps no peak of it); "
	  . "growth: peak RssAnon minus that of a backend that ran `SELECT 1`.\n\n";
	print "| backend | set: files, largest, total | VmHWM | peak RssAnon | growth | peak RssShmem |\n";
	print "|---|---|---:|---:|---:|---:|\n";
	printf "| ran `SELECT 1` | — | %s | %s | — | %s |\n", kb($bhwm), kb($banon), kb($mem{select1}[2]);
	for my $set ((map { "n$_" } @ns), 'big')
	{
		my ($max, $sum) = set_size("$sets/$set");
		my $nfiles = $set eq 'big' ? 'big' : substr($set, 1);
		for my $who ('apply', 'limit')
		{
			my $m = $mem{"${who}_$set"} or next;
			my $count = () = glob("$sets/$set/*.sql");
			printf "| %s | %d files, %s, %s | %s | %s | %s | %s |\n",
			  $who eq 'apply' ? '`migrate_apply(dir)`' : '`psql -1 -f` (the limit)',
			  $count, kb($max / 1024), kb($sum / 1024), kb($m->[0]), kb($m->[1]),
			  kb($m->[1] - $banon), kb($m->[2]);
		}
		if ($mem{"apply_$set"} && $mem{"limit_$set"})
		{
			my $extra = $mem{"apply_$set"}[1] - $mem{"limit_$set"}[1];
			push @verdicts, sprintf("memory, %s: migrate_apply's private peak is %s %s the limit's (largest file %s, all files %s)",
				$set eq 'big' ? 'big set' : "N=$nfiles", kb(abs $extra), $extra >= 0 ? 'above' : 'below',
				kb($max / 1024), kb($sum / 1024));
		}
	}
}

print "\n## Targets\n\n";
my ($lim1000) = stat_of('limit', 1000);
my ($app1000) = stat_of('apply', 1000);
my ($dbm1000) = stat_of('dbmate', 1000);
my ($lim100) = stat_of('limit', 100);
my ($app100) = stat_of('apply', 100);
sub verdict { return $_[0] ? 'holds' : 'MISSED'; }
if (defined $lim1000 && defined $app1000)
{
	printf "- N=1000: migrate_apply / limit = %.2f (target <= 1.15): %s\n", $app1000 / $lim1000,
	  verdict($app1000 / $lim1000 <= 1.15);
}
my ($clim1000) = stat_of('cpu_limit', 1000);
my ($capp1000) = stat_of('cpu_apply', 1000);
my ($clim100) = stat_of('cpu_limit', 100);
my ($capp100) = stat_of('cpu_apply', 100);
if (defined $clim1000 && defined $capp1000)
{
	printf "- N=1000, backend CPU: migrate_apply / limit = %.2f (target <= 1.15): %s\n", $capp1000 / $clim1000,
	  verdict($capp1000 / $clim1000 <= 1.15);
}
if (defined $dbm1000 && defined $app1000)
{
	printf "- N=1000: migrate_apply %s vs dbmate %s (target: no slower): %s\n", dur($app1000), dur($dbm1000),
	  verdict($app1000 <= $dbm1000);
}
if (defined $lim100 && defined $app100)
{
	printf "- N=100: migrate_apply / limit = %.2f (target <= 1.10): %s\n", $app100 / $lim100,
	  verdict($app100 / $lim100 <= 1.10);
}
if (defined $clim100 && defined $capp100)
{
	printf "- N=100, backend CPU: migrate_apply / limit = %.2f (target <= 1.10): %s\n", $capp100 / $clim100,
	  verdict($capp100 / $clim100 <= 1.10);
}
for my $m ([ 'noop_apply', 'no-op migrate_apply' ], [ 'noop_status', 'migrate_status(dir)' ])
{
	my $n = $ns[-1];
	my ($med) = stat_of($m->[0], $n);
	printf "- N=%d: %s %s (target < 50 ms): %s\n", $n, $m->[1], dur($med), verdict($med < 50)
	  if defined $med;
}
for my $n (@ns)
{
	my ($run) = stat_of('run', $n);
	my ($session) = stat_of('session', $n);
	printf "- N=%d: migrate_run %s vs the per-file psql session %s (target: at most): %s\n", $n, dur($run),
	  dur($session), verdict($run <= $session)
	  if defined $run && defined $session;
}
print "- $_\n" for @verdicts;
