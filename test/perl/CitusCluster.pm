# A Citus cluster for the TAP tests of morgenmigrate (test/t/1NN_citus_*.pl):
# a coordinator and two workers, each a PostgreSQL::Test::Cluster on a port
# of its own, all on this machine, talking to each other over the unix
# socket directory the test clusters share.
#
#   use FindBin;
#   use lib "$FindBin::Bin/../perl";
#   use CitusCluster qw(citus_installed CITUS_MISSING);
#   use Test::More;
#
#   plan skip_all => CITUS_MISSING unless citus_installed();
#   my $citus = CitusCluster->start('citus');
#   $citus->coordinator->safe_psql('postgres', ...);
#   $_->safe_psql('postgres', ...) for $citus->workers;
#   $citus->stop;
#
# Citus is not a dependency of morgenmigrate and is not installed by
# scripts/test.sh: scripts/build-citus.sh SRC builds it from a Citus source
# tree into this machine's PostgreSQL, from which scripts/test.sh copies it
# into the PostgreSQL it tests.
package CitusCluster;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;

our @EXPORT_OK = qw(citus_installed CITUS_MISSING);

# what a test that needs Citus says when it skips
use constant CITUS_MISSING =>
  'Citus is not installed (scripts/build-citus.sh SRC builds it)';

# Whether Citus is installed in the PostgreSQL the test clusters run: its
# library and its extension control file.  That PostgreSQL is the one whose
# binaries come first on the PATH (make installcheck puts the bindir of
# PG_CONFIG there, and PostgreSQL::Test::Cluster runs initdb, postgres and
# pg_config from the PATH), so its pg_config is the one asked.
sub citus_installed
{
	my $pkglibdir = qx{pg_config --pkglibdir};
	return 0 if $? != 0;
	my $sharedir = qx{pg_config --sharedir};
	return 0 if $? != 0;
	chomp($pkglibdir, $sharedir);
	return (-f "$pkglibdir/citus.so"
		  && -f "$sharedir/extension/citus.control") ? 1 : 0;
}

# Starts a cluster NAME: nodes NAME_coordinator, NAME_worker1 and
# NAME_worker2, with Citus preloaded, the extension citus in database
# "postgres" of each, the coordinator registered as such and the workers
# added to it; then creates morgenmigrate on the coordinator.  Options:
#
#   shard_count => N        citus.shard_count (default 32, Citus's own)
#   conf => TEXT            more postgresql.conf lines, on every node
#   morgenmigrate => WHEN   'after' (default): CREATE EXTENSION morgenmigrate
#                           on the coordinator once the workers are added;
#                           'before': before they are; 'none': not at all
#
# Returns the cluster object; its nodes are started.
sub start
{
	my ($class, $name, %opts) = @_;
	my $shard_count = $opts{shard_count} // 32;
	my $when        = $opts{morgenmigrate} // 'after';
	die "morgenmigrate => $when: 'after', 'before' or 'none'"
	  unless $when =~ /^(after|before|none)$/;

	my $self = bless { name => $name, workers => [] }, $class;
	$self->{coordinator} = _node("${name}_coordinator", $shard_count, $opts{conf});
	push @{ $self->{workers} }, _node("${name}_worker$_", $shard_count, $opts{conf})
	  for 1 .. 2;

	my $coord = $self->{coordinator};
	# the coordinator's own address in the metadata, which the workers use
	# to reach it (with unix sockets: the socket directory, which libpq
	# takes as a host)
	$coord->safe_psql('postgres',
		sprintf(q(SELECT citus_set_coordinator_host('%s', %d)), $coord->host, $coord->port));
	$coord->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate')
	  if $when eq 'before';
	for my $w (@{ $self->{workers} })
	{
		$coord->safe_psql('postgres',
			sprintf(q(SELECT citus_add_node('%s', %d)), $w->host, $w->port));
	}
	$coord->safe_psql('postgres', 'CREATE EXTENSION morgenmigrate')
	  if $when eq 'after';
	return $self;
}

# One node: initialised, Citus preloaded, started, with the extension citus
# (which citus_add_node needs on a worker before it is added).
sub _node
{
	my ($name, $shard_count, $conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	# Citus must come first in shared_preload_libraries.  It commits a
	# transaction that wrote on several nodes with two-phase commit, which
	# needs max_prepared_transactions > 0 on every node.  The nodes connect
	# to each other as the OS user the tests run as, over the unix socket:
	# init's pg_hba.conf trusts local connections, and libpq ignores the
	# sslmode=require of Citus's default citus.node_conninfo on a unix
	# socket.
	$node->append_conf(
		'postgresql.conf', qq(
shared_preload_libraries = 'citus'
max_prepared_transactions = 100
citus.shard_count = $shard_count
@{[ $conf // '' ]}
));
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION citus');
	return $node;
}

# The coordinator node.
sub coordinator { return $_[0]->{coordinator}; }

# The worker nodes, in the order they were added.
sub workers { return @{ $_[0]->{workers} }; }

# Worker I (1 or 2).
sub worker { return $_[0]->{workers}[ $_[1] - 1 ]; }

# Every node, the coordinator first.
sub nodes { return ($_[0]->{coordinator}, @{ $_[0]->{workers} }); }

# Stops every node, the workers first.
sub stop
{
	my ($self) = @_;
	$_->stop for reverse $self->nodes;
	return;
}

1;
