#!/usr/bin/env python3
"""Checks that the .deb and .rpm built by packaging/build.sh contain what a DBA needs.

Usage: check-packages.py PACKAGE...   (exit 1 naming each missing file)
The .deb is listed with dpkg-deb; the .rpm (gzip payload) is read here, so no rpm tool is
needed on a Debian build machine.
"""
import gzip
import pathlib
import struct
import subprocess
import sys

EXPECTED = {
    "/usr/sbin/iris-freeze",
    "/usr/share/man/man8/iris-freeze.8",
    "/usr/share/bash-completion/completions/iris-freeze",
    "/usr/share/fish/vendor_completions.d/iris-freeze.fish",
    "/etc/iris-freeze.toml",
    "/etc/logrotate.d/iris-freeze",
    "/usr/share/doc/iris-freeze/README.md",
    "/usr/share/doc/iris-freeze/LICENSE",
    "/usr/share/doc/iris-freeze/aws-ssm-document.yml",
}
# The pages under doc/ the README links to, at the same relative paths.
TOP = pathlib.Path(__file__).resolve().parent.parent
EXPECTED |= {f"/usr/share/doc/iris-freeze/{p.relative_to(TOP)}" for p in TOP.glob("doc/**/*.md")}
# zsh reads vendor completions from vendor-completions on Debian, site-functions on RPM systems.
ZSH = {"deb": "/usr/share/zsh/vendor-completions/_iris-freeze",
       "rpm": "/usr/share/zsh/site-functions/_iris-freeze"}


def deb_files(path):
    out = subprocess.run(["dpkg-deb", "-c", path], check=True, capture_output=True, text=True).stdout
    return {line.split()[-1].lstrip(".") for line in out.splitlines() if not line.endswith("/")}


def rpm_files(path):
    data = open(path, "rb").read()
    pos = 96  # the lead

    def header(pos):
        if data[pos:pos + 3] != b"\x8e\xad\xe8":
            raise SystemExit(f"{path}: not an RPM header at {pos}")
        count, size = struct.unpack(">II", data[pos + 8:pos + 16])
        return pos + 16 + count * 16 + size

    pos = header(pos)  # signature
    pos += (8 - pos % 8) % 8
    pos = header(pos)  # main header
    payload = gzip.decompress(data[pos:])
    files, i = set(), 0
    while i + 110 <= len(payload):
        if payload[i:i + 6] != b"070701":
            raise SystemExit(f"{path}: unexpected cpio format")
        namesize = int(payload[i + 94:i + 102], 16)
        filesize = int(payload[i + 54:i + 62], 16)
        name = payload[i + 110:i + 110 + namesize - 1].decode()
        i += 110 + namesize
        i += (4 - i % 4) % 4
        i += filesize
        i += (4 - i % 4) % 4
        if name == "TRAILER!!!":
            break
        files.add("/" + name.lstrip("./"))
    return files


def main():
    failed = False
    for pkg in sys.argv[1:]:
        files = deb_files(pkg) if pkg.endswith(".deb") else rpm_files(pkg)
        # cargo-deb compresses man pages, as Debian policy asks.
        files |= {f[:-3] for f in files if f.endswith(".8.gz")}
        expected = EXPECTED | {ZSH["deb" if pkg.endswith(".deb") else "rpm"]}
        missing = sorted(expected - files)
        # The removal scripts (packaging/scripts): the .deb's prerm/postrm, the .rpm's
        # %preun/%postun (its header is not compressed).
        if pkg.endswith(".deb"):
            scripts = subprocess.run(["dpkg-deb", "-I", pkg, "prerm", "postrm"],
                                     capture_output=True, text=True).stdout
        else:
            scripts = open(pkg, "rb").read().decode("latin-1")
        for script, needle in [("prerm", 'uninstall "$platform"'), ("postrm", "purge)")]:
            if needle not in scripts:
                missing.append(f"the {script} script")
        if missing:
            failed = True
            print(f"{pkg}: MISSING {', '.join(missing)}")
        else:
            print(f"{pkg}: ok, {len(files)} files including all {len(expected)} expected")
    if len(sys.argv) < 3:
        print("usage: check-packages.py DEB RPM")
        failed = True
    sys.exit(1 if failed else 0)


main()
