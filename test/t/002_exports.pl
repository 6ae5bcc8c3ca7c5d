# The installed library exports its entry points and nothing else:
#
# - every C symbol an extension script names ('MODULE_PATHNAME', 'sym'),
#   with its info record pg_finfo_sym, so that every version's functions
#   resolve, upgrades included;
# - _PG_init and the magic block;
# - the main functions of the background workers, which the server finds
#   by the name given to worker_launch().
#
# Any other function stays hidden: the server loads a library into its
# global symbol namespace, where a function of ours named like one of
# another library (history_load, plan_entries, ...) would bind in its
# place, and every exported function costs a symbol lookup when a new
# session loads the library.
use strict;
use warnings;

use FindBin;
use Test::More;

my $root = "$FindBin::Bin/../..";
my $libdir = `pg_config --pkglibdir`;
chomp $libdir;
my $lib = "$libdir/morgenmigrate.so";
ok(-f $lib, "the installed library is found ($lib)")
  or BAIL_OUT("no library at $lib");

# what should be exported
my %want = map { $_ => 'entry point' } qw(_PG_init Pg_magic_func);
for my $script (glob("$root/morgenmigrate--*.sql"))
{
	open my $fh, '<', $script or die "$script: $!";
	local $/;
	my $text = <$fh>;
	while ($text =~ /'MODULE_PATHNAME'\s*,\s*'(\w+)'/g)
	{
		$want{$1} = "named by $script";
		$want{"pg_finfo_$1"} = "info record of $1";
	}
}
for my $source (glob("$root/src/*.c"))
{
	open my $fh, '<', $source or die "$source: $!";
	local $/;
	my $text = <$fh>;
	while ($text =~ /worker_launch\([^,]+,\s*"(\w+)"/g)
	{
		$want{$1} = "background worker of $source";
	}
}
ok(keys %want > 20, 'the extension scripts name their C functions')
  or diag(join ' ', sort keys %want);
ok(grep({ /_worker_main$/ } keys %want) >= 2,
	'the background workers are found in the sources');

# what is exported: defined dynamic symbols (functions and data)
my @nm = `nm -D --defined-only '$lib'`;
is($?, 0, 'nm reads the library');
my %have;
for (@nm)
{
	my ($type, $name) = (split)[ 1, 2 ];
	next unless defined $name;
	# functions (T) and data (D, B, R); versions and the like are not ours
	$have{$name} = 1 if $type =~ /^[TDBR]$/;
}

my @missing = grep { !$have{$_} } sort keys %want;
is_deeply(\@missing, [], 'every entry point is exported')
  or diag(map { "missing $_ ($want{$_})\n" } @missing);
my @extra = grep { !$want{$_} } sort keys %have;
is_deeply(\@extra, [], 'nothing but the entry points is exported')
  or diag(scalar(@extra) . ' more: ' . join(' ', @extra[ 0 .. ($#extra < 19 ? $#extra : 19) ]));

done_testing();
