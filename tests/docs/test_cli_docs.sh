#!/usr/bin/env bash
# cli_docs_agree: for every command, the options listed by `atls <command> --help`, by
# docs/cli.md (its section and the shared sections naming it, read by scripts/gen-man) and by
# the generated man page atls-<command>.1 are the same set; `atls --help` lists exactly the
# commands docs/cli.md has a section for; the man pages format without groff warnings.
#
# Adding an option: put it in the command's --help text and in a table row of its section in
# docs/cli.md (first cell starting with `--name`); the man page follows at the next build.
set -euo pipefail
B=${ATLS_BUILD_DIR:?} S=${ATLS_SOURCE_DIR:?}
ATLS=$B/atls MD=$S/docs/cli.md MAN=$B/man/man1 GEN="perl $S/scripts/gen-man"
T=$(mktemp -d "${TMPDIR:-/tmp}/atls-docs-XXXXXX")
trap 'rm -rf "$T"' EXIT
fail=0

# options in --help: option lines (indented, starting with -), up to the gap before the text
help_options() {
    "$ATLS" "$1" --help | perl -ne 'next unless /^\s+-/; s/^\s+//; s/\s{2,}.*//s;
        print "$1\n" while /(?<![\w-])(--?[A-Za-z][\w-]*)/g' | sort -u
}
# options in a man page: the tags of .TP entries that start with an option
man_options() {
    perl -ne 'if ($tag) { $tag = 0; next unless /^\\fB\\-/; s/\\f[BIRP]//g; s/\\-/-/g;
        print "$1\n" while /(?<![\w-])(--?[A-Za-z][\w-]*)/g } $tag = 1 if /^\.TP/' "$1" | sort -u
}
report() { # report CMD WHERE_A A WHERE_B B: options in A missing from B
    local missing
    missing=$(comm -23 "$3" "$5" | tr '\n' ' ')
    if [ -n "$missing" ]; then
        echo "FAIL: atls $1: $missing listed by $2 but not by $4"
        fail=1
    fi
}

$GEN --commands "$MD" | sort > "$T/doc_cmds"
"$ATLS" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 && /^  [a-z]/ {print $1}' | sort > "$T/help_cmds"
report "--help" "docs/cli.md" "$T/doc_cmds" "atls --help" "$T/help_cmds"
report "--help" "atls --help" "$T/help_cmds" "docs/cli.md" "$T/doc_cmds"

for cmd in $(cat "$T/doc_cmds"); do
    $GEN --options "$MD" "$cmd" > "$T/$cmd.doc"
    help_options "$cmd" > "$T/$cmd.help"
    if [ ! -s "$MAN/atls-$cmd.1" ]; then
        echo "FAIL: $MAN/atls-$cmd.1 was not generated"; fail=1; continue
    fi
    man_options "$MAN/atls-$cmd.1" > "$T/$cmd.man"
    [ -s "$T/$cmd.help" ] || { echo "FAIL: atls $cmd --help lists no option"; fail=1; }
    report "$cmd" "--help" "$T/$cmd.help" "docs/cli.md" "$T/$cmd.doc"
    report "$cmd" "docs/cli.md" "$T/$cmd.doc" "--help" "$T/$cmd.help"
    report "$cmd" "docs/cli.md" "$T/$cmd.doc" "atls-$cmd.1" "$T/$cmd.man"
    report "$cmd" "atls-$cmd.1" "$T/$cmd.man" "docs/cli.md" "$T/$cmd.doc"
    echo "atls $cmd: $(wc -l < "$T/$cmd.help") options"
done

if command -v groff > /dev/null; then
    for page in "$MAN"/*.1; do
        if ! groff -man -Tutf8 -ww -z "$page" 2> "$T/groff.err" || [ -s "$T/groff.err" ]; then
            echo "FAIL: groff warns about $(basename "$page"):"; sed 's/^/  /' "$T/groff.err"
            fail=1
        fi
    done
else
    echo "groff not installed: man page formatting not checked"
fi
[ "$fail" -eq 0 ] || exit 1
echo "ok: --help, docs/cli.md and the man pages agree for $(wc -l < "$T/doc_cmds") commands"
