//! The freeze's line in the history: written and synced to disk before the freeze exits, after
//! the last IRIS call, so any snapshot cut after the freeze holds it (`verify` reads it there).

use crate::config::Config;
use crate::host::eventlog::EventLog;
use crate::host::history::{self, Event, EventKind, InstanceEvent};
use crate::iris::sharded;

use super::plan::{About, Local};

/// An instance frozen (or a cluster's data server, `host:port`): the journal file IRIS switched
/// to and the one a restore starts from.
type Journals = (String, Option<String>, Option<String>);

/// What the history needs to know of a freeze, gathered as it goes.
pub(super) struct CycleNote {
    /// The cycle's id, also ExternalFreeze's Text.
    pub(super) id: String,
    /// Per target: name, product, version, directory (from discovery).
    pub(super) about: Vec<About>,
    /// With `--sharded`: this host and its running instances, for the data servers among them.
    pub(super) local: Local,
}

impl CycleNote {
    /// An instance's line with its product, version and directory.
    fn instance(&self, name: &str, result: &str) -> InstanceEvent {
        let about = self.about.iter().find(|a| a.name == name);
        InstanceEvent {
            name: name.to_string(),
            product: about.map(|a| a.product.clone()).unwrap_or_default(),
            version: about.map(|a| a.version.clone()).unwrap_or_default(),
            dir: about.map(|a| a.dir.clone()).filter(|d| !d.is_empty()),
            result: result.to_string(),
            ..Default::default()
        }
    }

    /// A freeze that held: the instances frozen now (with the journal files ExternalFreeze
    /// named; a cluster's checkpoint number), the earlier ones kept, and the ones someone else
    /// froze.
    pub(super) fn frozen(
        &self,
        cfg: &Config,
        exit: u8,
        (journals, checkpoint): (&[Journals], Option<&str>),
        kept: &[String],
        foreign: &[String],
        log: &EventLog,
    ) {
        let mut e = self.event(cfg, EventKind::Freeze, exit);
        for (name, switched, restore) in journals {
            let mut i = self.instance(name, "frozen");
            i.journal_file = switched.clone();
            i.restore_from = restore.clone();
            self.cluster_of(cfg, &mut i);
            if i.cluster.is_some() {
                i.checkpoint = checkpoint.map(str::to_string);
            }
            if i.shard_master.is_some() {
                self.local_data_server(&mut i);
            }
            e.instances.push(i);
        }
        e.instances
            .extend(kept.iter().map(|n| self.instance(n, "kept")));
        e.instances
            .extend(foreign.iter().map(|n| self.instance(n, "foreign")));
        history::record_synced(&cfg.history_file, &e, log);
    }

    /// A freeze that failed and was rolled back: `undone` thawed again, `left` may still be
    /// frozen.
    pub(super) fn rolled_back(
        &self,
        cfg: &Config,
        undone: &[String],
        left: &[String],
        log: &EventLog,
    ) {
        let mut e = self.event(cfg, EventKind::Rollback, 1);
        for name in undone {
            let result = if left.contains(name) {
                "failed"
            } else {
                "rolled-back"
            };
            let mut i = self.instance(name, result);
            i.verdict = Some(history::not_consistent(
                "the freeze failed and was rolled back",
            ));
            e.instances.push(i);
        }
        history::record(&cfg.history_file, &e, log);
    }

    /// With `--sharded`: the line's cluster, and for a data server (`host:port`, not one of our
    /// targets: it runs on its own host), the shard master that froze it.
    fn cluster_of(&self, cfg: &Config, i: &mut InstanceEvent) {
        let (Some(ns), [About { name: master, .. }]) = (&cfg.sharded, &self.about[..]) else {
            return;
        };
        i.cluster = Some(ns.clone());
        if !i.name.eq_ignore_ascii_case(master) {
            i.shard_master = Some(master.clone());
        }
    }

    /// A data server (`host:port`) that is an instance of this host (its host names this host,
    /// `ThisHost::is`; its port is that instance's Super Server port): its line names the
    /// instance, with its product, version and directory, so `verify` reads that directory in
    /// this host's snapshot.
    fn local_data_server(&self, i: &mut InstanceEvent) {
        let Some(a) = self
            .local
            .instances
            .iter()
            .find(|a| sharded::is_local(&i.name, &self.local.host, &a.port))
        else {
            return;
        };
        i.instance = Some(a.name.clone());
        i.product = a.product.clone();
        i.version = a.version.clone();
        i.dir = Some(a.dir.clone()).filter(|d| !d.is_empty());
    }

    fn event(&self, cfg: &Config, kind: EventKind, exit: u8) -> Event {
        let by = history::by(cfg.invoked_as.as_deref(), "freeze");
        Event::new(&self.id, kind, &by, exit).with_job(cfg.job_parts())
    }
}
