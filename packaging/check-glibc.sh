#!/bin/sh
# Usage: check-glibc.sh BINARY MAX_VERSION
# Fails when BINARY needs a GLIBC symbol version newer than MAX_VERSION (RHEL 8 has 2.28; the
# baseline is 2.17). A statically linked binary needs none.
set -eu
bin=$1
max=$2
if ! objdump -p "$bin" | grep -q 'NEEDED'; then
    echo "check-glibc: $bin is statically linked: it needs no GLIBC symbol (baseline $max)"
    exit 0
fi
newest=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -u -V | tail -n 1)
if [ -z "$newest" ]; then
    echo "check-glibc: $bin needs no versioned GLIBC symbol"
    exit 0
fi
if [ "$(printf '%s\n%s\n' "$newest" "$max" | sort -V | tail -n 1)" != "$max" ]; then
    echo "check-glibc: $bin needs GLIBC_$newest, newer than the $max baseline:" >&2
    objdump -T "$bin" | grep "GLIBC_$newest" >&2
    exit 1
fi
echo "check-glibc: $bin needs at most GLIBC_$newest (baseline $max)"
