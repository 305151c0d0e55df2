#!/usr/bin/perl
# sa_oracle.pl - developer tool: run SpamAssassin's own Received parser
# (Mail::SpamAssassin::Message::Metadata::parse_received_line, Debian package
# "spamassassin") over a TSV of "key<TAB>header value" (newlines as \n, tabs
# as \t) and print "key<TAB>relay string" ("" when SpamAssassin skips the
# line or cannot parse it).  Used to measure agreement on headers outside
# the test tables; not run by ctest.
use strict;
use warnings;
use Mail::SpamAssassin;
use Mail::SpamAssassin::Message::Metadata;

my $md = bless {}, 'Mail::SpamAssassin::Message::Metadata';
binmode STDIN; binmode STDOUT;
while (my $l = <STDIN>) {
	chomp $l;
	my ($k, $v) = split /\t/, $l, 2;
	next unless defined $v;
	my %e = (n => "\n", t => "\t", "\\" => "\\");
	$v =~ s/\\([nt\\])/$e{$1}/g;
	my $r = eval { $md->parse_received_line($v) };
	my $s = (ref $r) ? $r->{as_string} : '';
	print "$k\t$s\n";
}
