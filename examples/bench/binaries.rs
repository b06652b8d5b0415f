//! Builds the binaries under test: iris-freeze and the simulator, release profile, static
//! unless `--dynamic` (as packaging/build.sh ships it).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, ensure};

pub(crate) struct Binaries {
    /// iris-freeze.
    pub(crate) exe: PathBuf,
    /// The IRIS simulator, linked as `iris`, `csession` and `ccontrol` on each host.
    pub(crate) sim: PathBuf,
}

pub(crate) fn build(manifest: &Path, dynamic: bool) -> Result<Binaries> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let triple = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let mut build = Command::new(cargo);
    build
        .args([
            "build",
            "--release",
            "--bin",
            "iris-freeze",
            "--example",
            "iris-sim",
        ])
        .current_dir(manifest);
    if !dynamic {
        build.args(["--target", &triple]).env(
            "RUSTFLAGS",
            std::env::var("BENCH_RUSTFLAGS")
                .unwrap_or_else(|_| "-C target-feature=+crt-static".into()),
        );
    }
    let status = build.status().context("running cargo build")?;
    ensure!(status.success(), "cargo build failed: {status}");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| manifest.join("target"));
    let out = if dynamic {
        target.join("release")
    } else {
        target.join(&triple).join("release")
    };
    Ok(Binaries {
        exe: out.join("iris-freeze"),
        sim: out.join("examples/iris-sim"),
    })
}
