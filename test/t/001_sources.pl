# Two rules of the source tree, checked on the sources themselves:
#
# - One module opens files: every file and directory the extension reads
#   goes through src/files.c, which checks morgenmigrate.allowed_directories,
#   refuses what is not a regular file without blocking on it, and limits
#   the size.  No other file of src/ may call open(), fopen(), AllocateFile(),
#   OpenTransientFile(), AllocateDir(), opendir() or their relatives.
#
# - Data flows one way: each module belongs to a layer, and a file includes
#   only the headers of modules of its own layer or below, with no cycle
#   among them.  The layers are README.md's (section "Layout"); the module
#   graph is printed.
use strict;
use warnings;

use File::Basename qw(basename dirname);
use FindBin;
use Test::More;

my $src = "$FindBin::Bin/../../src";

# the layers, lowest first; a module of src/layouts/ is "layouts"
my @layers = (
	[qw(compat morgenmigrate build_identity)],
	[qw(files layout layouts migration filecache)],
	[qw(source script history worker citus subxact lock lockreport context
		  filelimits leftovers cost costalter costset costcache relsize blockers
		  progress push deferrable)],
	[qw(plan runner adopt drift dirproof)],
	[qw(commands fleet dbfleet fleetutils)],
	[qw(entry)],
);
my %layer;
for my $i (0 .. $#layers)
{
	$layer{$_} = $i for @{ $layers[$i] };
}

my @files = (glob("$src/*.c"), glob("$src/*.h"), glob("$src/layouts/*.c"));
ok(@files > 20, 'the sources are found') or BAIL_OUT("no sources under $src");

# The module a file belongs to: its name without the extension
# (morgenmigrate.c holds the SQL entry points, above everything).
sub module_of
{
	my ($path) = @_;
	return 'layouts' if basename(dirname($path)) eq 'layouts';
	my $name = basename($path);
	return 'entry' if $name eq 'morgenmigrate.c';
	$name =~ s/\.[ch]$//;
	return $name;
}

# A file's text without its comments and string literals.
sub code_of
{
	my ($path) = @_;
	open my $fh, '<', $path or die "$path: $!";
	local $/;
	my $text = <$fh>;
	$text =~ s{/\*.*?\*/}{ }gs;
	$text =~ s{//[^\n]*}{}g;
	$text =~ s{"(?:\\.|[^"\\\n])*"}{""}g;
	$text =~ s{'(?:\\.|[^'\\\n])*'}{''}g;
	return $text;
}

# the one opener
my $openers = qr/\b(open|openat|fopen|fdopen|fdopendir|opendir|creat|AllocateFile|AllocateDir|OpenTransientFile|OpenTransientFilePerm|PathNameOpenFile|BasicOpenFile)\s*\(/;
my @opening;
for my $path (grep { /\.c$/ } @files)
{
	next if basename($path) eq 'files.c';
	my $code = code_of($path);
	while ($code =~ /$openers/g)
	{
		push @opening, basename($path) . ": $1()";
	}
}
is(join("\n", @opening), '', 'no file but src/files.c opens a file or a directory');

# the include graph
my (%edges, @upward, @unknown);
for my $path (@files)
{
	my $from = module_of($path);
	push @unknown, basename($path) unless exists $layer{$from};
	open my $fh, '<', $path or die "$path: $!";
	while (<$fh>)
	{
		next unless /^#include "(?:\.\.\/)?([a-z_]+)\.h"/;
		my $to = $1;
		next if $to eq $from || $to eq 'postgres' || $to eq 'fmgr'
		  || $to eq 'funcapi' || $to eq 'miscadmin' || $to eq 'pgstat';
		$edges{$from}{$to} = 1;
		if (!exists $layer{$to})
		{
			push @unknown, "$to.h";
			next;
		}
		push @upward, basename($path) . " includes $to.h (layer $layer{$to} above $layer{$from})"
		  if exists $layer{$from} && $layer{$to} > $layer{$from};
	}
}
is(join(', ', @unknown), '', 'every module has a layer');
is(join("\n", @upward), '', 'no file includes a header of a layer above its own');

# a cycle: a module reached again on the path from itself
my (%state, @cycles, @path);
my $visit;
$visit = sub {
	my ($m) = @_;
	$state{$m} = 1;
	push @path, $m;
	for my $n (sort keys %{ $edges{$m} || {} })
	{
		if (($state{$n} // 0) == 1)
		{
			my @at = grep { $path[$_] eq $n } 0 .. $#path;
			push @cycles, join(' -> ', @path[ $at[0] .. $#path ], $n);
		}
		elsif (!$state{$n})
		{
			$visit->($n);
		}
	}
	pop @path;
	$state{$m} = 2;
};
$visit->($_) for sort keys %edges;
is(join("\n", @cycles), '', 'the include graph has no cycle');

# the graph, by layer from the top
for my $i (reverse 0 .. $#layers)
{
	for my $m (@{ $layers[$i] })
	{
		note(sprintf("layer %d  %-14s -> %s", $i, $m,
				join(' ', sort keys %{ $edges{$m} || {} }) || '(nothing)'));
	}
}

done_testing();
