//! Which fault line applies: the first one for the call, where an `@N` line counts its uses in
//! `faults.count` (next to the faults file, under an exclusive lock so concurrent calls each
//! consume one use) and gives way to the next line once exhausted.

use std::fs::{self, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};

use super::spec::{FaultLine, Kind, parse_fault};
use crate::call::Call;

/// A fault line for the call, keyed by `<line index>\t<line text>` so that editing the file
/// starts a fresh count.
type Relevant = Vec<(String, FaultLine)>;

/// Picks the first applicable fault for `call` in `path`, consuming one use of an `@N` line.
pub(crate) fn take_fault(path: &Path, call: Call) -> Option<Kind> {
    let text = fs::read_to_string(path).ok()?;
    let relevant = relevant_lines(&text, call);
    let first = &relevant.first()?.1;
    if first.limit.is_none() {
        return Some(first.kind.clone());
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path.with_extension("count"))
        .ok()?;
    let lock = Flock::lock(file, FlockArg::LockExclusive).ok()?;
    let mut counts_text = String::new();
    let _ = (&*lock).read_to_string(&mut counts_text);
    let mut counts = parse_counts(&counts_text);
    let chosen = choose(&relevant, &mut counts);
    let new_text: String = counts.iter().map(|(n, k)| format!("{n}\t{k}\n")).collect();
    let _ = lock.set_len(0);
    let _ = lock.write_all_at(new_text.as_bytes(), 0);
    chosen
}

/// The valid lines for `call`, in order; invalid lines are reported on stderr and skipped.
fn relevant_lines(text: &str, call: Call) -> Relevant {
    let mut relevant = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_fault(line) {
            Ok(f) if f.call == call => relevant.push((format!("{idx}\t{line}"), f)),
            Ok(_) => {}
            Err(e) => eprintln!("iris-sim: ignoring fault line {}: {e}", idx + 1),
        }
    }
    relevant
}

/// `faults.count` lines: `<uses>\t<line index>\t<line text>`.
fn parse_counts(text: &str) -> Vec<(u64, String)> {
    text.lines()
        .filter_map(|l| l.split_once('\t'))
        .filter_map(|(n, key)| Some((n.parse().ok()?, key.to_string())))
        .collect()
}

/// The first line without `@N` or with uses left (counting this one), or none.
fn choose(relevant: &Relevant, counts: &mut Vec<(u64, String)>) -> Option<Kind> {
    for (key, f) in relevant {
        let Some(limit) = f.limit else {
            return Some(f.kind.clone());
        };
        let pos = match counts.iter().position(|(_, k)| k == key) {
            Some(p) => p,
            None => {
                counts.push((0, key.clone()));
                counts.len() - 1
            }
        };
        if counts[pos].0 < limit {
            counts[pos].0 += 1;
            return Some(f.kind.clone());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_n_line_applies_n_times_then_the_next_line_takes_over() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let faults = tmp.path().join("faults");
        fs::write(&faults, "# c\nthaw=hang\nfreeze=fail@2\nfreeze=exit:7@1\n").expect("write");
        let takes: Vec<Option<Kind>> = (0..4).map(|_| take_fault(&faults, Call::Freeze)).collect();
        assert_eq!(
            takes,
            [
                Some(Kind::Fail),
                Some(Kind::Fail),
                Some(Kind::Exit(7)),
                None
            ]
        );
        assert_eq!(
            fs::read_to_string(tmp.path().join("faults.count")).expect("counts"),
            "2\t2\tfreeze=fail@2\n1\t3\tfreeze=exit:7@1\n"
        );
        assert_eq!(take_fault(&faults, Call::Thaw), Some(Kind::Hang));
        assert_eq!(take_fault(&faults, Call::Stat), None);
    }

    #[test]
    fn a_line_without_n_always_applies_and_stops_the_search() {
        let lines = relevant_lines("freeze=slow:5\nfreeze=fail@1\nbad line\n", Call::Freeze);
        let mut counts = Vec::new();
        for _ in 0..3 {
            assert_eq!(choose(&lines, &mut counts), Some(Kind::Slow(5)));
        }
        assert!(counts.is_empty());
    }

    #[test]
    fn counts_are_read_back_by_line_index_and_text() {
        let lines = relevant_lines("freeze=fail@1\nfreeze=hang\n", Call::Freeze);
        let mut counts = parse_counts("1\t0\tfreeze=fail@1\nnot a count\n");
        assert_eq!(choose(&lines, &mut counts), Some(Kind::Hang));
        let mut counts = parse_counts("1\t5\tfreeze=fail@1\n");
        assert_eq!(choose(&lines, &mut counts), Some(Kind::Fail));
    }

    #[test]
    fn no_faults_file_no_fault() {
        let tmp = tempfile::tempdir().expect("tempdir");
        assert_eq!(take_fault(&tmp.path().join("faults"), Call::Freeze), None);
    }
}
