#!/bin/sh
# Builds the release binary (static: it runs on any glibc, RHEL 8's 2.28 included, and starts
# faster, which is freeze window), checks it needs no GLIBC symbol newer than 2.17, then builds
# the .deb (cargo-deb) and the .rpm (cargo-generate-rpm) into target/packages and checks what
# they contain. Installs cargo-deb and cargo-generate-rpm from crates.io when missing (debug
# builds: they compile in less than half the time, and run in a blink either way).
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
command -v cargo-generate-rpm >/dev/null 2>&1 || cargo install --locked --debug cargo-generate-rpm
rm -rf target/packages
mkdir -p target/packages
cargo deb --no-build --target "$triple" --output target/packages/
cargo generate-rpm --target "$triple" --payload-compress gzip --output target/packages/
python3 packaging/check-packages.py target/packages/*.deb target/packages/*.rpm
