#!/usr/bin/perl
# sa-relays.pl - the SpamAssassin side of the trace benchmark.
#
#   perl sa-relays.pl MBOX
#
# Loads Mail::SpamAssassin once (local tests only, no network, the
# distribution's rules and plugins as installed), then for every message of
# the mbox: $sa->parse, a PerMsgStatus, and extract_message_metadata, which
# runs SpamAssassin's Received parser and splits the relays into trusted and
# untrusted - the work "spamtrace trace" does.  No rules are run.  Only the
# loop is timed.  Prints one line:
#   BENCH tool=spamassassin messages=N relays=R trusted=T untrusted=U seconds=S cpu=C
# relays counts the relays found (a checksum that Received headers were
# really parsed).
use strict;
use warnings;
use Time::HiRes qw(time);
use Mail::SpamAssassin;
use Mail::SpamAssassin::PerMsgStatus;

my $path = shift or die "usage: sa-relays.pl MBOX\n";
my $sa = Mail::SpamAssassin->new({
	local_tests_only   => 1,
	dont_copy_prefs    => 1,
	userprefs_filename => '/dev/null',
	home_dir_for_helpers => '/tmp',
});
$sa->init(1);

my ($n, $relays, $trusted, $untrusted) = (0, 0, 0, 0);
my $one = sub {
	my ($text) = @_;
	my $msg = $sa->parse($text, 1);
	my $pms = Mail::SpamAssassin::PerMsgStatus->new($sa, $msg);
	$pms->extract_message_metadata();
	my $t = scalar @{$pms->{relays_trusted} || []};
	my $u = scalar @{$pms->{relays_untrusted} || []};
	$trusted += $t;
	$untrusted += $u;
	$relays += $t + $u;
	$n++;
	$pms->finish();
	$msg->finish();
};

my $t0 = time;
my @c0 = times;
open(my $fh, '<:raw', $path) or die "sa-relays.pl: $path: $!\n";
my ($cur, $prev_blank) = ('', 1);
while (my $line = <$fh>) {
	if ($prev_blank && substr($line, 0, 5) eq 'From ') {
		$one->($cur) if length $cur;
		$cur = '';
		$prev_blank = 0;
		next;
	}
	$cur .= $line;
	$prev_blank = ($line eq "\n" || $line eq "\r\n");
}
$one->($cur) if length $cur;
close $fh;
my $secs = time - $t0;
my @c1 = times;
my $cpu = ($c1[0] - $c0[0]) + ($c1[1] - $c0[1]);
printf "BENCH tool=spamassassin messages=%d relays=%d trusted=%d untrusted=%d seconds=%.3f cpu=%.3f\n",
	$n, $relays, $trusted, $untrusted, $secs, $cpu;
