# A syntax error on a line that starts inside a multi-line string or
# dollar-quoted body keeps its message, gets the CONTEXT line with the file
# and line, and leaves no cursor in the caller's query (the COPY-data check
# that re-parses the text before the error must not replace the error).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('syntax_context');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate');

my %files = (
	dollar => "CREATE TABLE ok_first (id integer);\nSELECT \$\$ first line\nsecond line \$\$ + ;\n",
	quote => "CREATE TABLE ok_first (id integer);\nINSERT INTO ok_first VALUES ('multi\nline' oops);\n",
);
for my $kind (sort keys %files)
{
	my $dir = PostgreSQL::Test::Utils::tempdir();
	open my $fh, '>', "$dir/001_broken.sql" or die $!;
	print $fh $files{$kind};
	close $fh;
	my ($rc, $out, $err) = $node->psql('postgres',
		"SELECT * FROM morgenmigrate.migrate_apply('$dir')",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	like($err, qr/ERROR:  42601: syntax error at or near "(;|oops)"/,
		"$kind: the real syntax error is reported");
	like($err, qr/CONTEXT:  migration "001_broken.sql", line 3/,
		"$kind: with the file and the line");
	unlike($err, qr/^LINE 1:/m, "$kind: no cursor into the caller's query");
}

$node->stop;
done_testing();
