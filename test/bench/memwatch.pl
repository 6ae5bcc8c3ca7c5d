#!/usr/bin/perl
# Watches one backend's memory until the process ends:
#
#   memwatch.pl PID OUTFILE
#
# samples /proc/PID/status every 2 ms and, when the process is gone,
# writes one line "vmhwm_kb peak_anon_kb peak_shmem_kb" to OUTFILE.
# VmHWM is the kernel's own peak of the resident set, shared buffers the
# backend touched included; RssAnon is the backend's private memory (what
# palloc uses), of which the kernel keeps no peak, hence the sampling.
# Run it in the background (psql's \! ... &) right after the backend's pid
# is known; it must be able to read /proc/PID/status (root, or the
# postgres OS user).
use strict;
use warnings;
use Time::HiRes qw(usleep);

my ($pid, $out) = @ARGV;
die "usage: $0 PID OUTFILE\n" unless defined $out && $pid =~ /^\d+$/;

my ($hwm, $anon, $shmem) = (0, 0, 0);
while (open(my $fh, '<', "/proc/$pid/status"))
{
	while (my $line = <$fh>)
	{
		if ($line =~ /^(VmHWM|RssAnon|RssShmem):\s+(\d+)/)
		{
			$hwm = $2 if $1 eq 'VmHWM' && $2 > $hwm;
			$anon = $2 if $1 eq 'RssAnon' && $2 > $anon;
			$shmem = $2 if $1 eq 'RssShmem' && $2 > $shmem;
		}
	}
	close($fh);
	usleep(2000);
}
open(my $fh, '>', "$out.tmp") or die "cannot write $out.tmp: $!\n";
print $fh "$hwm $anon $shmem\n";
close($fh);
rename("$out.tmp", $out) or die "cannot rename $out.tmp: $!\n";
