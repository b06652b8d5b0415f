//! `check` of IRIS: the programs, the instances, and a %SYS login to each running one.

use std::time::Instant;

use crate::config::Config;
use crate::host::process::Stop;
use crate::iris::backup::{self, Answer, Target};
use crate::iris::calls::IS_WD_SUSPENDED;
use crate::iris::credentials::Credentials;
use crate::iris::discovery::{self, Availability, Listing, Tools};
use crate::platform::kit::Findings;

pub(super) fn check_instances(cfg: &Config, creds: Option<Credentials>, out: &mut Findings) {
    let deadline = Instant::now() + cfg.timeout;
    let Some(tools) = check_programs(cfg, out) else {
        return;
    };
    let Some(listing) = check_listing(&tools, deadline, out) else {
        return;
    };
    super::sharded::check_cluster(cfg, &tools, &listing, out);
    let targets = running(&tools, &listing, creds, out);
    check_logins(&targets, deadline, out);
}

/// `iris`, `csession`, `ccontrol`: where they are, and any unsafe copy skipped.
fn check_programs(cfg: &Config, out: &mut Findings) -> Option<Tools> {
    let tools = match Tools::find(&cfg.bin_dirs) {
        Ok(t) => t,
        Err(e) => {
            out.fail("IRIS programs", format!("{e:#}"));
            return None;
        }
    };
    let found: Vec<String> = [
        ("iris", &tools.iris),
        ("csession", &tools.csession),
        ("ccontrol", &tools.ccontrol),
    ]
    .iter()
    .filter_map(|(n, p)| p.as_ref().map(|p| format!("{n} {}", p.display())))
    .collect();
    // An unsafe copy first on a path is skipped, but root's shell would still run it.
    for r in &tools.refused {
        out.fail(format!("unsafe {} skipped", r.name), &r.why);
    }
    out.ok(format!("programs: {}", found.join(", ")));
    Some(tools)
}

/// The instance list; None when there is no instance to look at.
fn check_listing(tools: &Tools, deadline: Instant, out: &mut Findings) -> Option<Listing> {
    let listing = discovery::list(tools, deadline);
    for e in &listing.errors {
        out.fail(
            "instance list",
            format!("{e}; a freeze without --instance refuses to run until it works"),
        );
    }
    if listing.instances.is_empty() {
        if listing.errors.is_empty() {
            out.warn(
                "instances: none",
                "qlist shows no instance, so a freeze has nothing to do; is IRIS installed on \
                 this host?",
            );
        }
        return None;
    }
    out.ok(format!("instances: {}", listing.names()));
    Some(listing)
}

/// The running instances to log in to; a line for each one that is not running.
fn running(
    tools: &Tools,
    listing: &Listing,
    creds: Option<Credentials>,
    out: &mut Findings,
) -> Vec<Target> {
    let mut targets = Vec::new();
    for inst in &listing.instances {
        match inst.availability() {
            Availability::Running => match tools.session_for(&inst.name, inst.kind) {
                Ok(session) => {
                    targets.push(Target::new(&inst.name, session).with_credentials(creds.as_ref()))
                }
                Err(e) => out.fail(format!("instance {}", inst.name), format!("{e:#}")),
            },
            Availability::Down => out.ok(format!(
                "instance {} is down: a freeze skips it (its files are consistent)",
                inst.name
            )),
            Availability::Unavailable => out.warn(
                format!("instance {} is '{}'", inst.name, inst.status),
                "a freeze fails while it is up but not accepting logins; wait until it is \
                 running, or leave it out with `instances` in /etc/iris-freeze.toml",
            ),
        }
    }
    targets
}

/// A %SYS session to each, asking whether its write daemon is suspended: the call a freeze
/// makes first.
fn check_logins(targets: &[Target], deadline: Instant, out: &mut Findings) {
    let answers = backup::each(targets, |t| backup::is_suspended(t, deadline, Stop::Never));
    for (t, (answer, o)) in targets.iter().zip(answers) {
        let how = if t.credentials.is_some() {
            "with the credentials file"
        } else {
            "without a login prompt"
        };
        match answer {
            Answer::No => out.ok(format!(
                "instance {}: %SYS session {how} ({:.1}s), not frozen",
                t.name,
                o.elapsed.as_secs_f64()
            )),
            Answer::Yes => out.warn(
                format!(
                    "instance {}: %SYS session {how} works, but its write daemon is suspended \
                     right now",
                    t.name
                ),
                "if iris-freeze did not freeze it, a freeze leaves it alone (exit 2); \
                 `iris-freeze status` shows who froze it",
            ),
            Answer::Unknown => out.fail(
                format!("instance {}", t.name),
                backup::problem(t, IS_WD_SUSPENDED, &o),
            ),
        }
    }
}
