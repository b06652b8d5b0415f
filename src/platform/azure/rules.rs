//! `check azure`'s rules for the plugin JSON's settings, as Azure's extension reads them
//! (Python: strings for numbers, `int()` of a poll time), and what it cannot see: timeouts
//! shorter than iris-freeze's deadline, retries that never retry.

use serde_json::{Map, Value};

use super::{DEFAULT_POLL, DEFAULT_TIMEOUT, MAX_TIMEOUT, POLL_RANGE};
use crate::platform::HOOK_MARGIN;
use crate::platform::kit::Findings;

/// A script's arguments (`preScriptParams`): absent or an array.
pub(super) fn params(obj: &Map<String, Value>, key: &str) -> Findings {
    let mut out = Findings::default();
    match obj.get(key) {
        None | Some(Value::Array(_)) => {}
        Some(Value::String(s)) => out.fail(
            format!("{key} is a string ({s:?}), not an array"),
            format!(
                "Azure passes a string one character per argument; fix: \"{key}\": [\"\", \"\"]"
            ),
        ),
        Some(other) => out.fail(
            format!("{key} is {other}, not an array"),
            format!("Azure fails iterating it; fix: \"{key}\": [\"\", \"\"]"),
        ),
    }
    out
}

/// Every setting besides the scripts: `need` is the `timeoutInSeconds` our deadline needs,
/// `timeout` iris-freeze's --timeout in seconds.
pub(super) fn settings(obj: &Map<String, Value>, need: u64, timeout: f64) -> Findings {
    let mut out = Findings::default();
    timeout_in_seconds(obj, need, timeout, &mut out);
    booleans(obj, &mut out);
    poll_time(obj, &mut out);
    retries(obj, &mut out);
    out
}

fn timeout_in_seconds(obj: &Map<String, Value>, need: u64, timeout: f64, out: &mut Findings) {
    match obj.get("timeoutInSeconds") {
        None => out.fail(
            "timeoutInSeconds is absent",
            format!(
                "Azure's default is {DEFAULT_TIMEOUT} s, shorter than iris-freeze's deadline \
                 (--timeout {timeout}s plus rollback and margin); fix: \"timeoutInSeconds\": \
                 {need} (`iris-freeze install azure` sets it)"
            ),
        ),
        Some(Value::Number(n)) => {
            let t = n.as_f64().unwrap_or(0.0);
            if t < need as f64 {
                out.fail(
                    format!("timeoutInSeconds is {n}"),
                    format!(
                        "shorter than iris-freeze's deadline (--timeout {timeout}s plus \
                         {HOOK_MARGIN}s for the rollback, kill graces and Azure's poll): a \
                         freeze can still be running when Azure gives up and snapshots; fix: \
                         \"timeoutInSeconds\": {need}"
                    ),
                );
            } else if t > MAX_TIMEOUT as f64 {
                out.ok(format!(
                    "timeoutInSeconds {n} (Azure caps it at {MAX_TIMEOUT})"
                ));
            } else {
                out.ok(format!("timeoutInSeconds {n} (iris-freeze needs {need})"));
            }
        }
        Some(other) => out.fail(
            format!("timeoutInSeconds is {other}, not a JSON number"),
            format!(
                "Azure fails comparing it (error 304) and runs no script; fix: \
                 \"timeoutInSeconds\": {need}"
            ),
        ),
    }
}

fn booleans(obj: &Map<String, Value>, out: &mut Findings) {
    for (key, what) in [
        (
            "continueBackupOnFailure",
            "a string is always true to Azure and later breaks its logic",
        ),
        ("fsFreezeEnabled", "Azure needs a JSON boolean"),
    ] {
        match obj.get(key) {
            None | Some(Value::Bool(true)) => out.ok(format!("{key} true")),
            Some(Value::Bool(false)) if key == "fsFreezeEnabled" => out.warn(
                "fsFreezeEnabled is false",
                "Azure then neither freezes the file systems nor takes a snapshot when a script \
                 fails; fix: \"fsFreezeEnabled\": true",
            ),
            Some(Value::Bool(false)) => out.ok(format!(
                "{key} false: a failed freeze fails the backup job instead of taking a \
                 file-system-consistent snapshot"
            )),
            Some(other) => out.fail(
                format!("{key} is {other}, not a JSON boolean"),
                format!("{what}; fix: \"{key}\": true"),
            ),
        }
    }
}

/// Azure adds up to two polls to each freeze window (one on each side).
fn poll_time(obj: &Map<String, Value>, out: &mut Findings) {
    let key = "ScriptsExecutionPollTimeSeconds";
    let best = POLL_RANGE.start();
    let (lo, hi) = (POLL_RANGE.start(), POLL_RANGE.end());
    let Some(v) = obj.get(key) else {
        out.warn(
            format!("{key} is absent"),
            format!(
                "Azure polls every {DEFAULT_POLL} s, adding up to {} s to each freeze window; \
                 fix: \"{key}\": {best}",
                2 * DEFAULT_POLL
            ),
        );
        return;
    };
    match python_int(v) {
        None => out.fail(
            format!("{key} is {v}, not a number"),
            format!("Azure fails on it (error 305) and runs no script; fix: \"{key}\": {best}"),
        ),
        Some(n) if !POLL_RANGE.contains(&n) => out.fail(
            format!("{key} is {v}, outside {lo}..{hi}"),
            format!("Azure ignores it and polls every {DEFAULT_POLL} s; fix: \"{key}\": {best}"),
        ),
        Some(_) if !v.is_number() => out.fail(
            format!("{key} is {v}, not a JSON number"),
            format!("fix: \"{key}\": {best}"),
        ),
        Some(n) => out.ok(format!("{key} {n}")),
    }
}

/// What Python's `int()` makes of a JSON value.
fn python_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_f64().map(|f| f.trunc() as i64),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        Value::Bool(b) => Some(*b as i64),
        _ => None,
    }
}

fn retries(obj: &Map<String, Value>, out: &mut Findings) {
    for key in ["preScriptNoOfRetries", "postScriptNoOfRetries"] {
        if let Some(v) = obj.get(key).filter(|v| v.as_f64() != Some(0.0)) {
            out.warn(
                format!("{key} is {v}"),
                format!(
                    "Azure's retries never run the script again (they re-poll the finished \
                     process); fix: \"{key}\": 0"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::kit::{Finding, Level};

    fn obj(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    /// The findings' levels and what they are about.
    fn seen(f: &Findings) -> Vec<(Level, String)> {
        f.all()
            .iter()
            .map(|Finding { level, what, .. }| (*level, what.clone()))
            .collect()
    }

    const GOOD: &str = r#"{"timeoutInSeconds":45,"continueBackupOnFailure":true,
        "fsFreezeEnabled":true,"ScriptsExecutionPollTimeSeconds":1,
        "preScriptNoOfRetries":0,"postScriptNoOfRetries":0}"#;

    #[test]
    fn what_install_writes_is_all_ok() {
        let f = settings(&obj(GOOD), 45, 30.0);
        assert_eq!(
            seen(&f),
            [
                (
                    Level::Ok,
                    "timeoutInSeconds 45 (iris-freeze needs 45)".into()
                ),
                (Level::Ok, "continueBackupOnFailure true".into()),
                (Level::Ok, "fsFreezeEnabled true".into()),
                (Level::Ok, "ScriptsExecutionPollTimeSeconds 1".into()),
            ]
        );
    }

    #[test]
    fn timeouts_short_absent_capped_or_strings() {
        let first = |json: &str| settings(&obj(json), 45, 30.0).all()[0].clone();
        let short = first(r#"{"timeoutInSeconds":30}"#);
        assert_eq!(short.level, Level::Fail);
        assert!(short.fix.contains("\"timeoutInSeconds\": 45"), "{short:?}");
        let absent = first("{}");
        assert_eq!(absent.level, Level::Fail);
        assert!(
            absent.fix.starts_with("Azure's default is 10 s"),
            "{absent:?}"
        );
        let capped = first(r#"{"timeoutInSeconds":3600}"#);
        assert_eq!(
            (capped.level, capped.what.as_str()),
            (Level::Ok, "timeoutInSeconds 3600 (Azure caps it at 1800)")
        );
        let string = first(r#"{"timeoutInSeconds":"60"}"#);
        assert_eq!(string.level, Level::Fail);
        assert!(string.fix.contains("error 304"), "{string:?}");
    }

    #[test]
    fn booleans_must_be_json_booleans() {
        let f = settings(
            &obj(r#"{"continueBackupOnFailure":"false","fsFreezeEnabled":false}"#),
            45,
            30.0,
        );
        let seen = seen(&f);
        assert!(seen.contains(&(
            Level::Fail,
            "continueBackupOnFailure is \"false\", not a JSON boolean".into()
        )));
        assert!(seen.contains(&(Level::Warn, "fsFreezeEnabled is false".into())));
        let f = settings(&obj(r#"{"continueBackupOnFailure":false}"#), 45, 30.0);
        assert_eq!(f.all()[1].level, Level::Ok);
    }

    #[test]
    fn the_poll_time_as_python_reads_it() {
        let poll = |v: &str| {
            let f = settings(
                &obj(&format!(r#"{{"ScriptsExecutionPollTimeSeconds":{v}}}"#)),
                45,
                30.0,
            );
            let p = f.all()[3].clone();
            (p.level, p.what)
        };
        assert_eq!(
            poll("2.7"),
            (Level::Ok, "ScriptsExecutionPollTimeSeconds 2".into())
        );
        assert_eq!(
            poll("10"),
            (
                Level::Fail,
                "ScriptsExecutionPollTimeSeconds is 10, outside 1..5".into()
            )
        );
        assert_eq!(
            poll("\"2\""),
            (
                Level::Fail,
                "ScriptsExecutionPollTimeSeconds is \"2\", not a JSON number".into()
            )
        );
        assert_eq!(
            poll("\"fast\""),
            (
                Level::Fail,
                "ScriptsExecutionPollTimeSeconds is \"fast\", not a number".into()
            )
        );
        assert_eq!(poll("true").0, Level::Fail);
        let absent = settings(&obj("{}"), 45, 30.0).all()[3].clone();
        assert_eq!(absent.level, Level::Warn);
        assert!(absent.fix.contains("adding up to 6 s"), "{absent:?}");
    }

    #[test]
    fn retries_other_than_zero_warn() {
        let f = settings(
            &obj(r#"{"preScriptNoOfRetries":3,"postScriptNoOfRetries":0}"#),
            45,
            30.0,
        );
        let warns: Vec<_> = f.all().iter().filter(|f| f.level == Level::Warn).collect();
        assert_eq!(warns.len(), 2, "{warns:?}"); // the retries and the absent poll time
        assert!(warns.iter().any(|w| w.what == "preScriptNoOfRetries is 3"));
    }

    #[test]
    fn params_must_be_arrays() {
        assert!(
            params(&obj(r#"{"preScriptParams":["",""]}"#), "preScriptParams")
                .all()
                .is_empty()
        );
        assert!(params(&obj("{}"), "preScriptParams").all().is_empty());
        let f = params(&obj(r#"{"preScriptParams":"ab"}"#), "preScriptParams");
        assert_eq!(
            f.all()[0].what,
            "preScriptParams is a string (\"ab\"), not an array"
        );
        let f = params(&obj(r#"{"postScriptParams":5}"#), "postScriptParams");
        assert_eq!(f.all()[0].level, Level::Fail);
    }
}
