//! Setup subcommands: `iris-sim add|set|fault|state|calls ...`, for tests and demos. Exit 0 on
//! success, 1 with a message on error; never logged in `calls.log`.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::process;

use crate::console::flush_all;
use crate::faults::parse_fault;
use crate::instances::{CONF_KEYS, read_kv, root_dir};

pub(crate) const USAGE: &str = "usage: iris-sim iris|csession|ccontrol ARGS...
       iris-sim add NAME [key=value ...]
       iris-sim set NAME key=value ...
       iris-sim fault NAME|- CALL=SPEC ...
       iris-sim state NAME
       iris-sim calls
(IRIS_SIM_DIR must be set; see the doc comment of examples/iris-sim/main.rs)";

/// Runs the setup subcommand `cmd` and exits.
pub(crate) fn run(cmd: &str, args: &[String]) -> ! {
    let root = root_dir();
    match (cmd, args) {
        ("add", [name, rest @ ..]) => add(&root, name, rest),
        ("set", [name, rest @ ..]) if !rest.is_empty() => set(&root, name, rest),
        ("fault", [name, specs @ ..]) if !specs.is_empty() => fault(&root, name, specs),
        ("state", [name]) => {
            let frozen = existing_instance_dir(&root, name).join("frozen").exists();
            say!("{}", if frozen { "frozen" } else { "thawed" });
        }
        ("calls", []) => {
            if let Ok(mut f) = File::open(root.join("calls.log")) {
                let _ = io::copy(&mut f, &mut io::stdout().lock());
            }
        }
        _ => {
            eprintln!("{USAGE}");
            process::exit(1)
        }
    }
    flush_all();
    process::exit(0)
}

/// `add NAME [key=value ...]`: (over)writes `NAME/conf` with those keys.
fn add(root: &Path, name: &str, pairs: &[String]) {
    or_die(check_name(name));
    let pairs = or_die(parse_pairs(pairs));
    let dir = root.join(name);
    if let Err(e) = fs::create_dir_all(&dir) {
        die(&format!("cannot create {}: {e}", dir.display()));
    }
    write_conf(&dir.join("conf"), &pairs);
}

/// `set NAME key=value ...`: updates keys of an existing instance's conf.
fn set(root: &Path, name: &str, pairs: &[String]) {
    let conf = existing_instance_dir(root, name).join("conf");
    let mut current = read_kv(&conf).unwrap_or_default();
    for (k, v) in or_die(parse_pairs(pairs)) {
        match current.iter_mut().find(|(pk, _)| *pk == k) {
            Some(p) => p.1 = v,
            None => current.push((k, v)),
        }
    }
    write_conf(&conf, &current);
}

/// `fault NAME|- CALL=SPEC ...`: validates all, then appends them (`-`: the top-level file).
fn fault(root: &Path, name: &str, specs: &[String]) {
    let path = if name == "-" {
        root.join("faults")
    } else {
        existing_instance_dir(root, name).join("faults")
    };
    for spec in specs {
        or_die(parse_fault(spec.trim()));
    }
    let existing = fs::read_to_string(&path).unwrap_or_default();
    let mut text = String::new();
    if !existing.is_empty() && !existing.ends_with('\n') {
        text.push('\n');
    }
    for spec in specs {
        text.push_str(spec.trim());
        text.push('\n');
    }
    if let Err(e) = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| io::Write::write_all(&mut f, text.as_bytes()))
    {
        die(&format!("cannot write {}: {e}", path.display()));
    }
}

fn die(msg: &str) -> ! {
    eprintln!("iris-sim: {msg}");
    process::exit(1)
}

fn or_die<T>(res: Result<T, String>) -> T {
    res.unwrap_or_else(|e| die(&e))
}

fn check_name(name: &str) -> Result<(), String> {
    let reserved = ["faults", "faults.count", "calls.log", "exprs.log", "-"];
    if name.is_empty()
        || name.starts_with('.')
        || name.contains('/')
        || name.chars().any(char::is_whitespace)
        || reserved.contains(&name)
    {
        return Err(format!("invalid instance name `{name}`"));
    }
    Ok(())
}

/// `key=value` arguments, checked against the conf keys; the first error wins.
fn parse_pairs(items: &[String]) -> Result<Vec<(String, String)>, String> {
    items.iter().map(|item| parse_pair(item)).collect()
}

fn parse_pair(item: &str) -> Result<(String, String), String> {
    let (k, v) = item
        .split_once('=')
        .ok_or_else(|| format!("`{item}` is not key=value"))?;
    let k = k.trim();
    if !CONF_KEYS.contains(&k) {
        return Err(format!(
            "unknown conf key `{k}` (known: {})",
            CONF_KEYS.join(", ")
        ));
    }
    if v.contains('\n') {
        return Err("values must not contain newlines".into());
    }
    match k {
        "registry" if v != "iris" && v != "cache" => {
            return Err("registry must be iris or cache".into());
        }
        "fields" if !v.parse::<usize>().is_ok_and(|n| (1..=14).contains(&n)) => {
            return Err("fields must be a number from 1 to 14".into());
        }
        _ => {}
    }
    Ok((k.to_string(), v.to_string()))
}

/// Writes a temp file and renames it over `path`, so readers see the old or the new conf.
fn write_conf(path: &Path, pairs: &[(String, String)]) {
    let text: String = pairs.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let tmp = path.with_extension(format!("tmp.{}", process::id()));
    if let Err(e) = fs::write(&tmp, text).and_then(|()| fs::rename(&tmp, path)) {
        die(&format!("cannot write {}: {e}", path.display()));
    }
}

fn existing_instance_dir(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    if !dir.join("conf").is_file() {
        die(&format!(
            "no instance `{name}` (use `iris-sim add {name}` first)"
        ));
    }
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[&str]) -> Result<Vec<(String, String)>, String> {
        let items: Vec<String> = items.iter().map(|i| i.to_string()).collect();
        parse_pairs(&items)
    }

    #[test]
    fn names_that_would_clash_with_state_files_are_refused() {
        for bad in [
            "",
            ".hidden",
            "a/b",
            "a b",
            "faults",
            "faults.count",
            "calls.log",
            "exprs.log",
            "-",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(check_name("IRIS"), Ok(()));
    }

    #[test]
    fn pairs_keep_values_as_given_and_check_keys() {
        assert_eq!(
            pairs(&[" product =IRIS Health", "fields=8", "registry=cache"]),
            Ok(vec![
                ("product".to_string(), "IRIS Health".to_string()),
                ("fields".to_string(), "8".to_string()),
                ("registry".to_string(), "cache".to_string()),
            ])
        );
        assert_eq!(pairs(&["x"]), Err("`x` is not key=value".into()));
        assert!(pairs(&["colour=red"]).is_err_and(|e| e.starts_with("unknown conf key `colour`")));
        assert_eq!(
            pairs(&["registry=x"]),
            Err("registry must be iris or cache".into())
        );
        assert_eq!(
            pairs(&["fields=15"]),
            Err("fields must be a number from 1 to 14".into())
        );
        assert_eq!(
            pairs(&["fields=0", "x"]),
            Err("fields must be a number from 1 to 14".into())
        );
    }
}
