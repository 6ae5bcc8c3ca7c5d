# make installcheck's first check (test/installcheck.sh): the outputs of an
# earlier run that this OS user cannot remove stop it at once, with what to
# do; what it can remove does not, a dangling link (a test's own fixture,
# left when that test failed) included: the next check, the server, speaks
# instead.
use strict;
use warnings;

use File::Path qw(make_path);
use File::Temp qw(tempdir);
use FindBin;
use IPC::Run;
use Test::More;

my $script = "$FindBin::Bin/../installcheck.sh";
my $bindir = `pg_config --bindir`;
chomp $bindir;

# Runs the checks in DIR against no server; returns what they print.
sub checks_in
{
	my ($dir) = @_;
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, PG_BINDIR => $bindir, MM_REGRESS => 1,
		PGHOST => '/nonexistent', PGPORT => 1);
	delete $ENV{MM_TAP};
	IPC::Run::run([ 'bash', '-c', "cd \Q$dir\E && bash \Q$script\E" ],
		'<', \undef, '>', \$out, '2>', \$err);
	return $err;
}

my $work = tempdir(CLEANUP => 1);

# a dangling link left in tmp_check by a failed TAP test: removable
make_path("$work/links/tmp_check/case04");
symlink("$work/links/nowhere", "$work/links/tmp_check/case04/002_dangling.sql")
  or die "symlink: $!";
my $err = checks_in("$work/links");
unlike($err, qr/is left from a run/, 'a dangling link left by a test does not stop the run');
like($err, qr/no PostgreSQL server answers/, 'the run goes on to the server check');

# a directory this user cannot write: its files cannot be removed
make_path("$work/locked/results/sub");
open(my $fh, '>', "$work/locked/results/sub/x.out") or die $!;
close $fh;
chmod 0555, "$work/locked/results/sub" or die $!;
$err = checks_in("$work/locked");
like($err,
	qr/\Q$work\E\/locked\/results\/sub is left from a run by \S+, and this user cannot write it:\n  remove the outputs of that run/,
	'outputs this user cannot remove stop the run, with what to do');
unlike($err, qr/no PostgreSQL server answers/, 'and stop it before anything else');
chmod 0755, "$work/locked/results/sub";

done_testing();
