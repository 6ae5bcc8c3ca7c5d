# The migration directory is opened twice in a call: once to list it, and
# once more to look its files up relative to it.  Each opening is checked
# against morgenmigrate.allowed_directories on its own, so a directory that
# becomes a link leading out between the two is refused, never used.
#
# Another process turns the directory (a link) back and forth between the
# real directory and one outside, while one session asks migrate_status
# 3,000 times.  Outside, each file's name is a hard link to the other
# file inside: looked up there, a file would take the other's checksum
# from the session's cache and show as changed.  Every call either sees
# both files applied or is refused as outside the setting (the directory,
# or one of its files when the swap falls between their checks).
use strict;
use warnings;
use POSIX ();

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $base = PostgreSQL::Test::Utils::tempdir();
my $allowed = "$base/allowed";
my $real = "$allowed/real";
my $outside = "$base/outside/app";
mkdir $_ or die "mkdir $_: $!" for $allowed, $real, "$base/outside", $outside;
my $old = time() - 3600;
for my $f ('001_a', '002_b')
{
	PostgreSQL::Test::Utils::append_to_file("$real/$f.sql", "CREATE TABLE t_$f (id int);\n");
	utime $old, $old, "$real/$f.sql" or die "utime: $!";
}
link("$real/002_b.sql", "$outside/001_a.sql") or die "link: $!";
link("$real/001_a.sql", "$outside/002_b.sql") or die "link: $!";
symlink($real, "$allowed/app") or die "symlink: $!";
# the files' change times (the links moved them) two seconds before their
# reading, or the session's cache would not keep them
sleep 3;

my $node = PostgreSQL::Test::Cluster->new('allowed_dir_race');
$node->init;
$node->append_conf('postgresql.conf', "morgenmigrate.allowed_directories = '$allowed'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM morgenmigrate.migrate_apply('$allowed/app')"),
	'2', 'both files are applied');

my $swapper = fork();
die "fork: $!" unless defined $swapper;
if ($swapper == 0)
{
	# ended by the parent's TERM, or _exit: never through the handlers and
	# END blocks it inherited, which would stop the parent's node
	$SIG{TERM} = 'DEFAULT';
	my $end = time() + 120;
	while (time() < $end && getppid() != 1)
	{
		for my $to ($outside, $real)
		{
			unlink "$allowed/.tmp_link";
			symlink($to, "$allowed/.tmp_link");
			rename("$allowed/.tmp_link", "$allowed/app");
		}
	}
	POSIX::_exit(0);
}

my $result = $node->safe_psql('postgres', qq{
	DO \$\$
	DECLARE
		states text;
		wrong integer := 0;
		refused integer := 0;
		ok integer := 0;
	BEGIN
		FOR i IN 1..3000 LOOP
			BEGIN
				SELECT string_agg(filename || ':' || state, ' ' ORDER BY filename)
					INTO states
					FROM morgenmigrate.migrate_status('$allowed/app');
				IF states = '001_a.sql:applied 002_b.sql:applied' THEN
					ok := ok + 1;
				ELSE
					wrong := wrong + 1;
					RAISE NOTICE 'wrong: %', states;
				END IF;
			EXCEPTION WHEN insufficient_privilege THEN
				-- the directory refused, or a file of it when the swap
				-- fell between the directory's check and the file's
				IF SQLERRM LIKE 'migration directory "$allowed/app" is outside morgenmigrate.allowed_directories'
				   OR SQLERRM LIKE 'migration file "$allowed/app/%.sql" is outside morgenmigrate.allowed_directories' THEN
					refused := refused + 1;
				ELSE
					RAISE;
				END IF;
			END;
		END LOOP;
		RAISE NOTICE 'wrong=% refused=% ok=%', wrong, refused, ok;
		PERFORM set_config('mmtest.result', wrong || ',' || (refused > 0) || ',' || (ok > 0), false);
	END \$\$;
	SELECT current_setting('mmtest.result');});
kill 'TERM', $swapper;
waitpid($swapper, 0);

my ($wrong, $refused, $ok) = split /,/, $result;
is($wrong, '0', 'no file was ever looked up in the directory outside');
is($refused, 'true', 'the link leading out was refused (the swap was seen)');
is($ok, 'true', 'the directory inside was read');

$node->stop;
done_testing();
