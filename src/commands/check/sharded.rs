//! `check` with `sharded_namespace` set: what can be known about the cluster freeze without
//! freezing. The shard master must be the one instance a freeze would pick, and running; its
//! login is checked with the others. Whether it really is the master of that namespace only the
//! cluster's ExternalFreeze can tell: no documented call asks it without freezing.

use crate::config::Config;
use crate::iris::discovery::{self, Listing, Tools};
use crate::iris::sharded;
use crate::platform::kit::Findings;

pub(super) fn check_cluster(cfg: &Config, tools: &Tools, listing: &Listing, out: &mut Findings) {
    let Some(ns) = &cfg.sharded else {
        return;
    };
    out.ok(format!(
        "sharded cluster {ns} (sharded_namespace): freeze, thaw and run call \
         `{}` and `{}` on the shard master, not each instance's own",
        sharded::external_freeze(ns, &cfg.freeze_options),
        sharded::external_thaw(ns)
    ));
    let what = format!("shard master of {ns}");
    let selection = match discovery::select(&cfg.instances, listing, tools) {
        Ok(s) => s,
        Err(e) => return out.fail(what, format!("{e:#}")),
    };
    let running: Vec<&str> = selection
        .targets
        .iter()
        .map(|(i, _)| i.name.as_str())
        .collect();
    match running[..] {
        [master] => out.ok(format!(
            "{what}: {master}, running; that it is the master of {ns} only the freeze can tell \
             (it fails, changing nothing, on any other instance)"
        )),
        [] => out.fail(
            what,
            "no running instance to freeze the cluster from: start the shard master, or name it \
             with `instances` in /etc/iris-freeze.toml",
        ),
        _ => out.fail(
            format!(
                "{what}: {} running instances ({})",
                running.len(),
                running.join(", ")
            ),
            "a cluster freeze refuses several (the others would be frozen uncoordinated): name \
             the shard master with `instances` in /etc/iris-freeze.toml, or --instance",
        ),
    }
}
