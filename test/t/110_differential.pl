# The differential test: morgenmigrate reads a runner's directory as the
# runner does.  For each runner that can be installed here (dbmate,
# node-pg-migrate and postgrator-cli from npm, sql-migrate from Debian;
# scripts/test.sh installs them), directories generated from a seed
# (test/perl/DifferentialGen.pm) are migrated by the runner on one database
# and by morgenmigrate.migrate_apply, with the layout detected, on another;
# then the runner's history is adopted and the last migration rolled back
# on both sides.  The parts that ran and their order, the schemas, the
# histories, the failing file and SQLSTATE, the adopted history and the
# rollback must agree (test/perl/Differential.pm), or morgenmigrate must
# refuse with a rule the README states and change nothing.  A difference
# prints the directory's files, made smaller while the difference stays;
# the directory stays in tmp_check/differential/<runner>/<n>.
#
#   MM_DIFF_COUNT=300 PROVE_TESTS=test/t/110_differential.pl scripts/test.sh tap
#
# runs 300 directories per runner (the default, 25, keeps the test to a
# minute or two); MM_DIFF_SEED picks another seed, MM_DIFF_START=n
# MM_DIFF_COUNT=1 makes directory n again alone, MM_DIFF_RUNNERS=dbmate,
# sql-migrate limits the runners, MM_DIFF_VERBOSE=1 notes every
# directory and what each side did.  A runner that is not installed skips
# the test, with the reason.
use strict;
use warnings;

use File::Path ();
use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use lib "$FindBin::Bin/../perl";
use MorgenmigrateTest qw(runner_missing);
use Differential qw(prepare_node check_directory minimize accepted_refusals describe_directory);
use DifferentialGen;

my $src = "$FindBin::Bin/../..";
my $seed = $ENV{MM_DIFF_SEED} // 20261206;
my $count = $ENV{MM_DIFF_COUNT} // 25;
my $start = $ENV{MM_DIFF_START} // 1;
my @runners = split /,/, ($ENV{MM_DIFF_RUNNERS} // 'dbmate,node-pg-migrate,postgrator,sql-migrate');

# a runner that cannot run skips the whole test, so that the summary of
# scripts/test.sh says so (MM_DIFF_RUNNERS runs the others)
my @missing = grep { runner_missing($_) } @runners;
plan skip_all => join('; ', map { runner_missing($_) } @missing) if @missing;

note "seed $seed (MM_DIFF_SEED), directories $start to " . ($start + $count - 1)
  . " per runner (MM_DIFF_START, MM_DIFF_COUNT)";

# every accepted refusal follows a rule the README states
my $readme = slurp_file("$src/README.md") =~ s/\s+/ /gr;
for my $a (accepted_refusals())
{
	ok(index($readme, $a->{rule}) >= 0, "the README states the rule of the accepted refusal \"$a->{name}\"")
	  or diag("README.md does not say: $a->{rule}");
}

my $node = PostgreSQL::Test::Cluster->new('differential');
$node->init;
my $empty = prepare_node($node);
my $base = "$PostgreSQL::Test::Utils::tmp_check/differential";

for my $runner (@runners)
{
	my $t = { node => $node, runner => $runner, base => "$base/$runner", empty => $empty, refusals => {},
		compared => 0 };
	my ($agreed, $began, $checking) = (0, time, 0);
	for my $n ($start .. $start + $count - 1)
	{
		my $dseed = DifferentialGen::directory_seed($seed, $runner, $n);
		my $spec = DifferentialGen::generate($runner, $dseed);
		$t->{events} = [];
		my $one = time;
		my @d = check_directory($t, $spec, $n);
		$checking += time - $one;
		note("$runner: directory $n:\n" . describe_directory($spec) . "\n"
			  . join("\n", map { "  - $_" } @{ $t->{events} }))
		  if $ENV{MM_DIFF_VERBOSE};
		if (@d)
		{
			fail("$runner: directory $n agrees");
			my ($small, @sd) = minimize($t, $spec, $n, @d);
			my $kept = "$base/$runner/$n/migrations";
			diag("$runner: directory $n (MM_DIFF_SEED=$seed MM_DIFF_START=$n MM_DIFF_COUNT=1"
				  . " MM_DIFF_RUNNERS=$runner, kept in $kept)"
				  . (@{ $small->{entries} } < @{ $spec->{entries} }
					? ", the same difference with " . @{ $small->{entries} } . ' of its '
					  . @{ $spec->{entries} } . ' files'
					: '')
				  . ":\n" . describe_directory($small) . "\n" . join("\n", map { "  - $_" } @sd));
		}
		else
		{
			pass("$runner: directory $n agrees");
			$agreed++;
			File::Path::remove_tree("$base/$runner/$n");
		}
	}
	my $took = time - $began;
	note sprintf('%s: %d of %d directories agree, %d of them with migrations applied on both sides;'
		  . ' %.1f s (%.2f s a directory, without making the differing ones smaller); accepted refusals: %s',
		$runner, $agreed, $count, $t->{compared}, $took, $checking / $count,
		join(', ', map { "$_ $t->{refusals}{$_}" } sort keys %{ $t->{refusals} }) || 'none');
	# a refusal on both sides agrees, but proves less than a comparison of
	# what ran: a generator or a change that made most directories refused
	# would pass unseen (with the default seed, 55 to 70 in 100 are compared)
	cmp_ok($t->{compared}, '>=', int($count / 3),
		"$runner: at least a third of the directories ran migrations on both sides and were compared");
}

$node->stop;
done_testing();
