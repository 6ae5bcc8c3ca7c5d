# Helpers shared by the TAP tests of morgenmigrate (test/t/*.pl):
#
#   use FindBin;
#   use lib "$FindBin::Bin/../perl";
#   use MorgenmigrateTest qw(write_set guide_example);
package MorgenmigrateTest;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Utils qw(slurp_file);

our @EXPORT_OK = qw(write_set guide_example);

# Writes a migration set: creates directory $dir holding the given files
# (name => text) and returns $dir.
sub write_set
{
	my ($dir, %files) = @_;
	mkdir $dir or die "mkdir $dir: $!";
	while (my ($name, $text) = each %files)
	{
		open my $fh, '>', "$dir/$name" or die "open $dir/$name: $!";
		print $fh $text;
		close $fh;
	}
	return $dir;
}

# The text of example NAME of docs/operations.md (the fenced block after the
# line "<!-- example: NAME -->"), with the block's indentation removed, so
# that a test runs the guide's example as it stands there.
my $guide;
sub guide_example
{
	my ($name) = @_;
	$guide //= slurp_file('docs/operations.md');
	$guide =~ /^[ \t]*<!-- example: \Q$name\E -->\n(?:[ \t]*\n)*([ \t]*)```[a-z]*\n(.*?)^[ \t]*```[ \t]*$/ms
	  or die "docs/operations.md has no example \"$name\"";
	my ($indent, $text) = ($1, $2);
	$text =~ s/^\Q$indent\E//mg;
	return $text;
}

1;
