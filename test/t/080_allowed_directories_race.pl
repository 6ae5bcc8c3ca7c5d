# morgenmigrate.allowed_directories is checked against what was actually
# opened: a file of an allowed directory swapped for a link to a file
# outside it, between the check and the open, must never be read.  Another
# process swaps the file and a link back and forth while migrations are
# rehearsed 6,000 times; the outside file is never parsed (its text is a
# syntax error that would say so).
use strict;
use warnings;
use POSIX ();

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $base = PostgreSQL::Test::Utils::tempdir();
my $allowed = "$base/allowed";
my $outside = "$base/outside";
mkdir $allowed or die;
mkdir $outside or die;
PostgreSQL::Test::Utils::append_to_file("$outside/secret.sql", "outside_secret;\n");
PostgreSQL::Test::Utils::append_to_file("$base/inside.sql", "SELECT 1;\n");

my $node = PostgreSQL::Test::Cluster->new('allowed_race');
$node->init;
$node->append_conf('postgresql.conf', "morgenmigrate.allowed_directories = '$allowed'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $target = "$allowed/001_swapped.sql";
PostgreSQL::Test::Utils::append_to_file($target, "SELECT 1;\n");

my $swapper = fork();
die "fork: $!" unless defined $swapper;
if ($swapper == 0)
{
	# the child ends by the parent's TERM, or _exit: never through the
	# handler and END blocks it inherited, which would stop the parent's
	# node (PostgreSQL::Test::Cluster of 16 and later traps TERM)
	$SIG{TERM} = 'DEFAULT';
	my $end = time() + 120;
	while (time() < $end && getppid() != 1)
	{
		unlink "$allowed/.tmp_link";
		symlink("$outside/secret.sql", "$allowed/.tmp_link");
		rename("$allowed/.tmp_link", $target);
		open my $fh, '>', "$allowed/.tmp_file" or next;
		print $fh "SELECT 1;\n";
		close $fh;
		rename("$allowed/.tmp_file", $target);
	}
	POSIX::_exit(0);
}

my $result = $node->safe_psql('postgres', qq{
	DO \$\$
	DECLARE
		leaks integer := 0;
		refused integer := 0;
		ok integer := 0;
	BEGIN
		FOR i IN 1..6000 LOOP
			BEGIN
				PERFORM * FROM morgenmigrate.migrate_apply('$allowed', dry_run => true);
				ok := ok + 1;
			EXCEPTION WHEN OTHERS THEN
				IF SQLERRM LIKE '%outside_secret%' THEN
					leaks := leaks + 1;
				ELSIF SQLERRM LIKE '%outside morgenmigrate.allowed_directories%' THEN
					refused := refused + 1;
				END IF;
			END;
		END LOOP;
		RAISE NOTICE 'leaks=% refused=% ok=%', leaks, refused, ok;
		PERFORM set_config('mmtest.result', leaks || ',' || (refused > 0) || ',' || (ok > 0), false);
	END \$\$;
	SELECT current_setting('mmtest.result');});
kill 'TERM', $swapper;
waitpid($swapper, 0);

my ($leaks, $refused, $ok) = split /,/, $result;
is($leaks, '0', 'the file outside the allowed directory was never read');
is($refused, 'true', 'the link to it was refused (the swap was seen)');
is($ok, 'true', 'the regular file in its place was read');

$node->stop;
done_testing();
