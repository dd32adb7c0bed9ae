# test_cli_systemd_units: the example units in contrib/systemd pass `systemd-analyze verify`
# (with the built atls and man pages in place of the installed ones), every option their
# ExecStart= lines give is one that `atls serve` / `atls connect` accept, and the sandboxing
# the docs promise is there (no new privileges, a dynamic user, a read-only system).
source "$(dirname "$0")/lib.sh"
command -v systemd-analyze > /dev/null || skip "needs systemd-analyze (systemd not installed)"
S=${ATLS_SOURCE_DIR:-$(dirname "$0")/../..}
U=$S/contrib/systemd

for unit in atls-serve.service atls-tunnel@.service; do
    sed "s|/usr/local/bin/atls|$ATLS|g" "$U/$unit" > "$T/$unit"
    # the instance template needs an instance and its environment file to be verified
    name=$unit
    if [ "$unit" = "atls-tunnel@.service" ]; then
        name=atls-tunnel@db.service
        sed -i "s|/etc/atls/tunnel-%i.env|-$T/tunnel-%i.env|" "$T/$unit"
        cp "$T/$unit" "$T/$name"
    fi
    rc=0
    (cd "$T" && MANPATH="$B/man" SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "./$name") \
        > "$T/$unit.verify" 2>&1 || rc=$?
    grep -v "Failed to .*credentials\|Unit is bound to inactive unit" "$T/$unit.verify" > "$T/$unit.issues" || true
    check "$unit: systemd-analyze verify passes (exit $rc)" [ "$rc" -eq 0 ]
    check "$unit: ... with nothing to say ($(head -c 300 "$T/$unit.issues"))" [ ! -s "$T/$unit.issues" ]
    for d in NoNewPrivileges=yes DynamicUser=yes ProtectSystem=strict ProtectHome=yes \
        PrivateTmp=yes RestrictAddressFamilies= SystemCallFilter=@system-service; do
        check "$unit: $d" grep -q "^$d" "$U/$unit"
    done
done
check "serve reloads on systemctl reload (SIGHUP)" grep -q '^ExecReload=/bin/kill -HUP \$MAINPID' "$U/atls-serve.service"

# every --option of an ExecStart= is one the command accepts (its --help)
opts_of() { # opts_of UNIT: the options of its ExecStart (continued lines joined)
    sed -n '/^ExecStart=/,/[^\\]$/p' "$1" | grep -o -- '--[a-z][a-z-]*' | sort -u
}
for pair in "atls-serve.service serve" "atls-tunnel@.service connect"; do
    set -- $pair
    "$ATLS" "$2" --help > "$T/$2.help"
    for o in $(opts_of "$U/$1"); do
        check "$1: $o is an option of atls $2" grep -q -- "$o" "$T/$2.help"
    done
done
finish
