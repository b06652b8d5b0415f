#!/bin/sh
# Usage: check-glibc.sh BINARY MAX_VERSION
# Fails when BINARY needs a GLIBC symbol version newer than MAX_VERSION (RHEL 8 has 2.28; the
# baseline is 2.17). A statically linked binary needs none. Fails too when it cannot tell: no
# such file, not an ELF file, no objdump, or objdump failing; a check that cannot fail proves
# nothing.
set -eu
if [ "$#" -ne 2 ]; then
    echo "usage: check-glibc.sh BINARY MAX_VERSION" >&2
    exit 2
fi
bin=$1
max=$2
fail() {
    echo "check-glibc: $*" >&2
    exit 1
}
[ -f "$bin" ] || fail "$bin: no such file; build it first"
command -v objdump >/dev/null 2>&1 ||
    fail "objdump is missing: install binutils (apt-get install binutils, dnf install binutils)"
# Captured first: in a pipeline, objdump's failure would be lost and read as "no NEEDED".
headers=$(objdump -p "$bin") || fail "objdump -p $bin failed (is it an ELF binary?)"
case $headers in
*"file format elf"*) ;;
*) fail "$bin is not an ELF file" ;;
esac
if ! printf '%s\n' "$headers" | grep -q 'NEEDED'; then
    if printf '%s\n' "$headers" | grep -q '^ *INTERP '; then
        fail "$bin names a dynamic loader (INTERP) but no library: cannot tell what it needs"
    fi
    echo "check-glibc: $bin is statically linked: it needs no GLIBC symbol (baseline $max)"
    exit 0
fi
symbols=$(objdump -T "$bin") || fail "objdump -T $bin failed"
newest=$(printf '%s\n' "$symbols" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -u -V | tail -n 1)
if [ -z "$newest" ]; then
    echo "check-glibc: $bin needs no versioned GLIBC symbol"
    exit 0
fi
if [ "$(printf '%s\n%s\n' "$newest" "$max" | sort -V | tail -n 1)" != "$max" ]; then
    echo "check-glibc: $bin needs GLIBC_$newest, newer than the $max baseline:" >&2
    printf '%s\n' "$symbols" | grep "GLIBC_$newest" >&2
    exit 1
fi
echo "check-glibc: $bin needs at most GLIBC_$newest (baseline $max)"
