#!/usr/bin/perl
# sisimai-decode.pl - the Sisimai side of the bounces benchmark.
#
#   perl sisimai-decode.pl MBOX
#
# Decodes every message of the mbox with Sisimai 4, the way Sisimai->make
# does it: Sisimai::Mail reads the mbox one message at a time,
# Sisimai::Message parses it, Sisimai::Data makes one record per failed
# recipient.  Records are counted, not kept, so memory stays per message
# (kinder to Sisimai than make(), which keeps the whole list).  Modules are loaded before the clock
# starts.  Prints one line:
#   BENCH tool=sisimai version=V messages=N bounces=B records=R seconds=S cpu=C
# messages: every message read; bounces: those that gave at least one record.
use strict;
use warnings;
use Time::HiRes qw(time);
use Sisimai;
use Sisimai::Mail;
use Sisimai::Message;

my $path = shift or die "usage: sisimai-decode.pl MBOX\n";
# Sisimai 5 renamed the API (rise, Sisimai::Fact); only 4.x (Debian 12's
# libsisimai-perl) has been run here.
eval { require Sisimai::Data; 1 }
	or die "sisimai-decode.pl: Sisimai $Sisimai::VERSION has no Sisimai::Data (5.x?): adapt to Sisimai::Fact->rise\n";

my ($n, $bounces, $records) = (0, 0, 0);
my $t0 = time;
my @c0 = times;
my $mail = Sisimai::Mail->new($path) or die "sisimai-decode.pl: $path: cannot open\n";
while (my $r = $mail->data->read) {
	$n++;
	my $mesg = Sisimai::Message->new('data' => $r) or next;
	my $data = Sisimai::Data->make('data' => $mesg, 'origin' => $mail->data->path);
	next unless $data && @$data;
	$bounces++;
	$records += scalar @$data;
}
my $secs = time - $t0;
my @c1 = times;
my $cpu = ($c1[0] - $c0[0]) + ($c1[1] - $c0[1]);
printf "BENCH tool=sisimai version=%s messages=%d bounces=%d records=%d seconds=%.3f cpu=%.3f\n",
	$Sisimai::VERSION, $n, $bounces, $records, $secs, $cpu;
