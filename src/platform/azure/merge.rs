//! The plugin JSON `install azure` writes: the settings iris-freeze needs, merged into what is
//! there (unknown keys and their order kept), with a note for each value it changes.

use serde_json::{Map, Value, json};

use super::{POLL_RANGE, POST, PRE};

/// The settings Azure needs, merged into `existing` (an object; keys and their order kept).
/// Returns the merged object and a note for each value that was changed.
pub(super) fn merge(existing: Map<String, Value>, need: u64) -> (Map<String, Value>, Vec<String>) {
    let mut m = existing;
    let mut notes = Vec::new();
    if !m.contains_key("pluginName") {
        m.insert("pluginName".into(), json!("ScriptRunner"));
    }
    set(&mut m, &mut notes, "preScriptLocation", json!(PRE), "");
    set(&mut m, &mut notes, "postScriptLocation", json!(POST), "");
    params(&mut m, &mut notes);
    for key in ["preScriptNoOfRetries", "postScriptNoOfRetries"] {
        if !m.contains_key(key) {
            m.insert(key.into(), json!(0));
        }
    }
    timeout(&mut m, &mut notes, need);
    set(
        &mut m,
        &mut notes,
        "continueBackupOnFailure",
        json!(true),
        "",
    );
    set(&mut m, &mut notes, "fsFreezeEnabled", json!(true), "");
    set(
        &mut m,
        &mut notes,
        "ScriptsExecutionPollTimeSeconds",
        json!(POLL_RANGE.start()),
        " (a shorter freeze window)",
    );
    (m, notes)
}

/// Sets `key` to `v`, with a note when it held something else.
fn set(m: &mut Map<String, Value>, notes: &mut Vec<String>, key: &str, v: Value, why: &str) {
    if let Some(old) = m.get(key) {
        if *old != v {
            notes.push(format!("{key} was {old}, now {v}{why}"));
        }
    }
    m.insert(key.to_string(), v);
}

/// The scripts' arguments: any array is kept (Azure passes it on; the wrappers ignore it).
fn params(m: &mut Map<String, Value>, notes: &mut Vec<String>) {
    for key in ["preScriptParams", "postScriptParams"] {
        match m.get(key) {
            Some(Value::Array(_)) => {}
            Some(old) => {
                notes.push(format!(
                    "{key} was {old} (not an array; Azure would pass a string one character \
                     per argument), now [\"\", \"\"]"
                ));
                m.insert(key.into(), json!(["", ""]));
            }
            None => {
                m.insert(key.into(), json!(["", ""]));
            }
        }
    }
}

/// A larger timeout is kept; a smaller one, or one that is not a number, becomes `need`.
fn timeout(m: &mut Map<String, Value>, notes: &mut Vec<String>, need: u64) {
    match m.get("timeoutInSeconds") {
        Some(Value::Number(n)) if n.as_f64().is_some_and(|t| t >= need as f64) => {}
        Some(old) => {
            let why = if old.is_number() {
                format!(" (iris-freeze needs at least {need} s)")
            } else {
                " (Azure needs a JSON number)".to_string()
            };
            notes.push(format!("timeoutInSeconds was {old}, now {need}{why}"));
            m.insert("timeoutInSeconds".into(), json!(need));
        }
        None => {
            m.insert("timeoutInSeconds".into(), json!(need));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_unknown_keys_order_and_larger_timeouts() {
        let existing: Map<String, Value> = serde_json::from_str(
            r#"{"appName":"x","timeoutInSeconds":600,"preScriptParams":"ab",
                "postScriptParams":["IRIS"],"continueBackupOnFailure":"false"}"#,
        )
        .unwrap();
        let (m, notes) = merge(existing, 45);
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(
            &keys[..3],
            ["appName", "timeoutInSeconds", "preScriptParams"]
        );
        assert_eq!(m["timeoutInSeconds"], json!(600));
        assert_eq!(m["preScriptParams"], json!(["", ""]));
        assert_eq!(m["postScriptParams"], json!(["IRIS"]));
        assert_eq!(m["continueBackupOnFailure"], json!(true));
        assert_eq!(m["pluginName"], json!("ScriptRunner"));
        assert_eq!(m["preScriptNoOfRetries"], json!(0));
        assert!(
            notes.iter().any(|n| n.contains("preScriptParams")),
            "{notes:?}"
        );

        let (m, notes) = merge(
            serde_json::from_str(r#"{"timeoutInSeconds":"60"}"#).unwrap(),
            45,
        );
        assert_eq!(m["timeoutInSeconds"], json!(45));
        assert!(notes[0].contains("JSON number"), "{notes:?}");
        let (m2, notes) = merge(m.clone(), 45);
        assert_eq!(m, m2);
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn a_merged_file_passes_the_checks_rules() {
        let (m, _) = merge(Map::new(), 45);
        let rules = crate::platform::azure::rules::settings(&m, 45, 30.0);
        assert!(
            rules
                .all()
                .iter()
                .all(|f| f.level == crate::platform::kit::Level::Ok),
            "{:?}",
            rules.all()
        );
    }
}
