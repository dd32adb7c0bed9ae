#!/usr/bin/env perl
# public_functions.pl DIR: the functions declared in DIR/*.h (the public headers), one a line,
# sorted, as "name header". Comments and preprocessor lines are skipped; a function is an
# atls_ identifier followed by "(" but not "(*" (so function-pointer types and members
# are not counted).
use strict;
use warnings;
my $dir = shift or die "usage: public_functions.pl INCLUDE_DIR\n";
my %seen;
for my $h (sort glob("$dir/*.h")) {
    open(my $fh, '<', $h) or die "cannot read $h: $!\n";
    local $/;
    my $text = <$fh>;
    close $fh;
    $text =~ s{/\*.*?\*/}{ }gs;
    $text =~ s{//[^\n]*}{}g;
    $text =~ s{^[ \t]*#(?:[^\n]*\\\n)*[^\n]*}{}gm;
    (my $name = $h) =~ s{.*/}{};
    $seen{$1} //= $name while $text =~ /\b(atls_[A-Za-z0-9_]+)\s*\((?!\s*\*)/g;
}
print "$_ $seen{$_}\n" for sort keys %seen;
