#!/bin/sh
# Builds the release binary (static: it runs on any glibc, RHEL 8's 2.28 included, and starts
# faster, which is freeze window), checks it needs no GLIBC symbol newer than 2.17, then builds
# the .deb (cargo-deb) and the .rpm (rpmbuild, packaging/iris-freeze.spec) into target/packages
# and checks what they contain. Installs cargo-deb from crates.io when missing (a debug build:
# it compiles in less than half the time, and runs in a blink either way); rpmbuild comes with
# the distribution's rpm package (Debian and Ubuntu: apt-get install rpm).
set -eu
cd "$(dirname "$0")/.."
triple="$(uname -m)-unknown-linux-gnu"
# The static flag only reaches the target artifacts with an explicit --target (proc macros and
# build scripts stay dynamic).
RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target "$triple" --bin iris-freeze
bin="target/$triple/release/iris-freeze"
sh packaging/check-glibc.sh "$bin" 2.17
export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo-deb >/dev/null 2>&1 || cargo install --locked --debug cargo-deb
if ! command -v rpmbuild >/dev/null 2>&1; then
    echo "build.sh: rpmbuild is missing; install the rpm package (apt-get install rpm, dnf install rpm-build)" >&2
    exit 1
fi
# The maintainer contact is written once, in Cargo.toml; the Debian changelog's trailer lines
# (@MAINTAINER@) and the spec's Packager and %changelog get it from there.
maintainer="$(sed -n 's/^maintainer = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
if [ -z "$maintainer" ]; then
    echo "build.sh: no maintainer = \"...\" in Cargo.toml's [package.metadata.deb]" >&2
    exit 1
fi
rm -rf target/packages target/packaging
mkdir -p target/packages target/packaging
awk -v m="$maintainer" '{ gsub(/@MAINTAINER@/, m); print }' packaging/changelog >target/packaging/changelog
cargo deb --no-build --target "$triple" --output target/packages/
# The spec, with packaging/scripts/prerm and postrm as %preun and %postun (comments left out:
# rpmlint reads "rpm" in them as a dangerous command; % escaped for rpm's macros).
top="$(pwd)"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
spec=target/packages/iris-freeze.spec
{
    cat packaging/iris-freeze.spec
    printf '\n%%preun\n'
    sed -e '/^[[:space:]]*#/d' -e 's/%/%%/g' packaging/scripts/prerm
    printf '\n%%postun\n'
    sed -e '/^[[:space:]]*#/d' -e 's/%/%%/g' packaging/scripts/postrm
} >"$spec"
rpmbuild -bb --quiet \
    --define "_topdir $top/target/rpmbuild" \
    --define "_rpmdir $top/target/packages" \
    --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
    --define "pkg_version $version" \
    --define "maintainer $maintainer" \
    --define "top $top" \
    --define "bin $top/$bin" \
    "$spec"
rm -f "$spec"
python3 packaging/check-packages.py target/packages/*.deb target/packages/*.rpm
