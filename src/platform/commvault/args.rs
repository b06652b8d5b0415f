//! The arguments the CommServe appends to a pre- or post-process command:
//! `-bkplevel N -attempt N -status N -job ID`, each at most once, in any order; none with
//! `/suppress` (which stays at the end of the command, so it may arrive too).

use std::ffi::OsString;

use crate::platform::hooks::HookJob;

/// Longest accepted value: a job id is a number; anything longer is not the CommServe's.
const MAX_VALUE: usize = 32;
const MAX_ARGS: usize = 12;

/// The job named by `rest`, or why the call is refused.
pub(super) fn parse(rest: &[OsString]) -> Result<HookJob, String> {
    let refuse = |what: String| {
        Err(format!(
            "Commvault hook: {what}; it takes only what the CommServe appends (-bkplevel N \
             -attempt N -status N -job ID, optionally /suppress); nothing was frozen or thawed"
        ))
    };
    if rest.len() > MAX_ARGS {
        return refuse(format!("{} arguments", rest.len()));
    }
    let mut job = HookJob::default();
    let mut seen: Vec<String> = Vec::new();
    let mut more = Vec::new();
    let mut it = rest.iter().map(|a| a.to_str());
    while let Some(arg) = it.next() {
        let Some(arg) = arg else {
            return refuse("an argument that is not UTF-8".into());
        };
        if arg.eq_ignore_ascii_case("/suppress") {
            more.push("/suppress".to_string());
            continue;
        }
        let key = arg.to_ascii_lowercase();
        let key = match key.as_str() {
            "-bkplevel" | "-attempt" | "-status" | "-job" => key,
            _ => return refuse(format!("unexpected argument {arg:?}")),
        };
        if seen.contains(&key) {
            return refuse(format!("{key} given twice"));
        }
        let Some(Some(value)) = it.next() else {
            return refuse(format!("{key} without a value"));
        };
        let ok = !value.is_empty()
            && value.len() <= MAX_VALUE
            && if key == "-job" {
                // Never an option's name: `-job -attempt` is a missing id.
                value.as_bytes()[0].is_ascii_alphanumeric()
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            } else {
                value.bytes().all(|b| b.is_ascii_digit()) && value.len() <= 9
            };
        if !ok {
            return refuse(format!("{key} {value:?} is not a number or a job id"));
        }
        match key.as_str() {
            "-job" => job.id = Some(value.to_string()),
            "-attempt" => job.attempt = value.parse().ok(),
            _ => more.push(format!("{key} {value}")),
        }
        seen.push(key);
    }
    job.more = if more.is_empty() {
        "no other argument".into()
    } else {
        more.join(" ")
    };
    Ok(job)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<HookJob, String> {
        let v: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&v)
    }

    #[test]
    fn what_the_commserve_appends_is_read() {
        let j = p(&[
            "-bkplevel",
            "1",
            "-attempt",
            "2",
            "-status",
            "1",
            "-job",
            "4711",
        ])
        .unwrap();
        assert_eq!(j.id.as_deref(), Some("4711"));
        assert_eq!(j.attempt, Some(2));
        assert_eq!(j.more, "-bkplevel 1 -status 1");
        let j = p(&["-JOB", "88", "-attempt", "1"]).unwrap();
        assert_eq!(
            p(&["-job", "cv-2.1"]).unwrap().id.as_deref(),
            Some("cv-2.1")
        );
        assert_eq!((j.id.as_deref(), j.attempt), (Some("88"), Some(1)));
        let j = p(&[]).unwrap();
        assert_eq!((j.id, j.attempt), (None, None));
        assert_eq!(p(&["/suppress"]).unwrap().more, "/suppress");
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            &["--instance", "X"][..],
            &["-job"],
            &["-job", ""],
            &["-job", "1;rm"],
            &["-attempt", "x"],
            &["-attempt", "1", "-attempt", "2"],
            &["-status", "1234567890"],
            &["freeze"],
            &["-job", "1", "extra"],
            &["-job", "-status"],
        ] {
            let why = p(bad).unwrap_err();
            assert!(why.contains("nothing was frozen"), "{bad:?}: {why}");
        }
        let long = "9".repeat(33);
        assert!(p(&["-job", &long]).is_err());
        let many: Vec<&str> = std::iter::repeat_n("/suppress", 13).collect();
        assert!(p(&many).is_err());
    }
}
