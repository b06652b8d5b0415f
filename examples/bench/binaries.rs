//! Builds the binaries under test: iris-freeze, release profile, static (as packaging/build.sh
//! ships it) and dynamic (what a plain `cargo build --release` gives), and the simulator.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, ensure};

/// How iris-freeze is linked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Link {
    /// `+crt-static` with an explicit `--target`: the shipped build.
    Static,
    /// The default build: glibc as a shared library.
    Dynamic,
}

impl Link {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Link::Static => "static",
            Link::Dynamic => "dynamic",
        }
    }
}

/// One build of iris-freeze: its name in the output, its path.
pub(crate) struct Build {
    pub(crate) name: String,
    pub(crate) exe: PathBuf,
}

pub(crate) struct Binaries {
    /// iris-freeze, in the order asked for.
    pub(crate) builds: Vec<Build>,
    /// The IRIS simulator, linked as `iris`, `csession` and `ccontrol` on each host: the first
    /// build's, so that every contender calls the same one.
    pub(crate) sim: PathBuf,
}

impl Binaries {
    /// The first build: the shipped one when it is measured.
    pub(crate) fn main(&self) -> &Build {
        &self.builds[0]
    }
}

/// Builds iris-freeze each way in `links`, then adds the binaries `given` (already built, e.g. to
/// hold two versions against each other). The simulator is built with the first build, or alone.
pub(crate) fn build(manifest: &Path, links: &[Link], given: Vec<Build>) -> Result<Binaries> {
    let mut builds = Vec::new();
    let mut sim = None;
    for &link in links {
        let out = build_one(manifest, Some(link))?;
        sim.get_or_insert_with(|| out.join("examples/iris-sim"));
        builds.push(Build {
            name: link.name().into(),
            exe: out.join("iris-freeze"),
        });
    }
    let sim = match sim {
        Some(sim) => sim,
        None => build_one(manifest, None)?.join("examples/iris-sim"),
    };
    builds.extend(given);
    ensure!(!builds.is_empty(), "no iris-freeze to measure");
    Ok(Binaries { builds, sim })
}

/// Builds iris-freeze (linked as `link`) and the simulator, or the simulator alone (`None`:
/// dynamic); returns their directory.
fn build_one(manifest: &Path, link: Option<Link>) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let triple = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let mut build = Command::new(cargo);
    build.args(["build", "--release", "--example", "iris-sim"]);
    if link.is_some() {
        build.args(["--bin", "iris-freeze"]);
    }
    build.current_dir(manifest);
    if link == Some(Link::Static) {
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
    Ok(match link {
        Some(Link::Static) => target.join(&triple).join("release"),
        _ => target.join("release"),
    })
}
