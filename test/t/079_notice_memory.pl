# Notices raised while a migration runs get the migration's CONTEXT line;
# writing that line must not cost memory that stays: a data migration that
# raises a NOTICE per row, in a long-lived session (a pg_cron worker), would
# grow without bound.  50,000 notices; the backend's ErrorContext, where
# error reports are built, must stay small afterwards.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('notice_memory');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my $dir = PostgreSQL::Test::Utils::tempdir();
PostgreSQL::Test::Utils::append_to_file("$dir/001_chatty.sql", <<'EOF');
CREATE TABLE chatty (id integer);
DO $$
BEGIN
    FOR i IN 1..50000 LOOP
        RAISE NOTICE 'row %', i;
    END LOOP;
END $$;
EOF

my ($out, $err) = ('', '');
$node->psql('postgres', qq{
	\\set SHOW_CONTEXT always
	SELECT count(*) FROM morgenmigrate.migrate_apply('$dir');
	SELECT total_bytes FROM pg_backend_memory_contexts WHERE name = 'ErrorContext';},
	stdout => \$out, stderr => \$err);
my @lines = split /\n/, $out;
is($lines[0], '1', 'the file applies');
my $notices = () = $err =~ /NOTICE:  row \d+\nCONTEXT:  (?:.*\n)*?migration "001_chatty\.sql", line 2$/mg;
is($notices, 50000, 'every notice carries the migration context line')
  or diag(substr($err, 0, 600));
cmp_ok($lines[1], '<', 1024 * 1024,
	"ErrorContext stays under 1 MB after 50,000 notices ($lines[1] bytes)");

$node->stop;
done_testing();
