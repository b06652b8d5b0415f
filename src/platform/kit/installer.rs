//! What a platform's install steps work with, and the plain step: the hook files written.

use std::path::Path;

use anyhow::{Context, Result};

use super::Given;
use super::hook_files::content_of;
use crate::host::trust::Tree;
use crate::platform::Platform;
use crate::util::file_transaction::FileTransaction;

pub(crate) struct Installer<'a> {
    /// What the install reads of the configuration.
    pub(crate) given: Given<'a>,
    /// `--root`, where every path is looked up (never followed out of it).
    pub(crate) tree: Tree,
    platform: Platform,
    /// The binary the hooks run.
    pub(crate) bin: &'a Path,
    pub(crate) tx: FileTransaction,
    /// Printed after the files' lines.
    pub(crate) notes: Vec<String>,
}

impl<'a> Installer<'a> {
    pub(crate) fn new(given: Given<'a>, tree: Tree, platform: Platform, bin: &'a Path) -> Self {
        Installer {
            given,
            tree,
            platform,
            bin,
            tx: FileTransaction::new(),
            notes: Vec::new(),
        }
    }

    pub(crate) fn root(&self) -> &Path {
        self.given.root
    }

    /// Writes the platform's hook files (in this root's layout), creating their directories.
    pub(crate) fn put_hooks(&mut self) -> Result<()> {
        let dir_mode = self.platform.spec().hook_dir_mode();
        for hook in self.platform.hook_files(self.given.root) {
            let Some(file) = hook.file() else { continue };
            let path = self.tree.path(file.path)?;
            let dir = path.parent().context("a hook path has a directory")?;
            self.tx.ensure_dir(dir, dir_mode)?;
            self.tx.put(&path, &content_of(file, self.bin), "")?;
        }
        Ok(())
    }
}
