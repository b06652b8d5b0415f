//! A fault line: `CALL=SPEC`, `SPEC = KIND[:ARG][@N]`.

use nix::sys::signal::Signal;

use crate::call::Call;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Fail,
    Hang,
    HangIgnoreTerm,
    Login,
    LoginHang,
    Crash(Signal),
    Exit(i32),
    /// `answer:N`: exit N printing nothing, as a real answer looks (one that may lie); on the
    /// check fed on stdin, its markers with what N means to IsWDSuspendedExt.
    Answer(i32),
    /// `silent:N`: exit N before running anything, printing nothing.
    Silent(i32),
    ThenHang,
    ThenCrash(Signal),
    ThenExit(i32),
    Slow(u64),
    Huge(u64),
    Grandchild(u64),
    Binary,
    EchoInput,
    /// `print:TEXT`: one more line of output, its `\xHH` escapes decoded.
    Print(Vec<u8>),
}

#[derive(Debug)]
pub(crate) struct FaultLine {
    pub(crate) call: Call,
    pub(crate) kind: Kind,
    /// `@N`: applies to the first N invocations that reach it.
    pub(crate) limit: Option<u64>,
}

pub(crate) fn parse_fault(line: &str) -> Result<FaultLine, String> {
    let (call, spec) = line
        .split_once('=')
        .ok_or_else(|| format!("fault `{line}` is not CALL=SPEC"))?;
    let call = Call::parse(call.trim()).ok_or_else(|| format!("unknown call `{}`", call.trim()))?;
    let spec = spec.trim();
    let (body, limit) = match spec.rsplit_once('@') {
        Some((b, n)) => {
            let n = n
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("bad @N in `{spec}`"))?;
            (b, Some(n))
        }
        None => (spec, None),
    };
    let kind = parse_kind(body, spec)?;
    Ok(FaultLine { call, kind, limit })
}

/// `KIND[:ARG]`; `spec` (the whole SPEC) is quoted in errors.
fn parse_kind(body: &str, spec: &str) -> Result<Kind, String> {
    let (kind, arg) = match body.split_once(':') {
        Some((k, a)) => (k, Some(a.trim())),
        None => (body, None),
    };
    let num = |what: &str| -> Result<u64, String> {
        arg.ok_or_else(|| format!("`{kind}` needs :{what}"))?
            .parse::<u64>()
            .map_err(|_| format!("bad {what} in `{spec}`"))
    };
    let opt_num = |default: u64| -> Result<u64, String> {
        match arg {
            None => Ok(default),
            Some(a) => a.parse().map_err(|_| format!("bad number in `{spec}`")),
        }
    };
    let code = || -> Result<i32, String> {
        let n = num("N")?;
        if n > 255 {
            return Err(format!("exit code out of range in `{spec}`"));
        }
        Ok(n as i32)
    };
    let sig = || arg.map_or(Ok(Signal::SIGKILL), parse_signal);
    let no_arg = |k: Kind| match arg {
        None => Ok(k),
        Some(_) => Err(format!("`{kind}` takes no argument")),
    };
    Ok(match kind.trim() {
        "fail" => no_arg(Kind::Fail)?,
        "hang" => no_arg(Kind::Hang)?,
        "hang-ignore-term" => no_arg(Kind::HangIgnoreTerm)?,
        "login" => no_arg(Kind::Login)?,
        "login-hang" => no_arg(Kind::LoginHang)?,
        "then-hang" => no_arg(Kind::ThenHang)?,
        "crash" => Kind::Crash(sig()?),
        "then-crash" => Kind::ThenCrash(sig()?),
        "exit" => Kind::Exit(code()?),
        "answer" => Kind::Answer(code()?),
        "silent" => Kind::Silent(code()?),
        "then-exit" => Kind::ThenExit(code()?),
        "slow" => Kind::Slow(num("MS")?),
        "huge" => Kind::Huge(opt_num(1_048_576)?),
        "grandchild" => Kind::Grandchild(opt_num(30)?),
        "binary" => no_arg(Kind::Binary)?,
        "echo-input" => no_arg(Kind::EchoInput)?,
        "print" => Kind::Print(unescape(arg.unwrap_or_default(), spec)?),
        other => return Err(format!("unknown fault kind `{other}`")),
    })
}

/// `print`'s TEXT as bytes: `\xHH` is that byte, `\\` a backslash, anything else as is.
fn unescape(text: &str, spec: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'\\') => out.push(b'\\'),
            Some(b'x') => {
                let hex = [bytes.next(), bytes.next()];
                let hex: Option<Vec<u8>> = hex.into_iter().collect();
                let byte = hex
                    .and_then(|h| u8::from_str_radix(std::str::from_utf8(&h).ok()?, 16).ok())
                    .ok_or_else(|| format!("bad \\xHH in `{spec}`"))?;
                out.push(byte);
            }
            _ => return Err(format!("a backslash is \\\\ or \\xHH in `{spec}`")),
        }
    }
    Ok(out)
}

/// `KILL`, `SIGSEGV`, `abrt`, `6`...
fn parse_signal(s: &str) -> Result<Signal, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| format!("bad signal number `{n}`"));
    }
    let up = s.to_ascii_uppercase();
    let full = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    full.parse::<Signal>()
        .map_err(|_| format!("unknown signal `{s}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(line: &str) -> Kind {
        parse_fault(line).expect(line).kind
    }

    #[test]
    fn kinds_with_their_arguments_and_defaults() {
        assert_eq!(kind("freeze=fail"), Kind::Fail);
        assert_eq!(kind("thaw=hang"), Kind::Hang);
        assert_eq!(kind("thaw=hang-ignore-term"), Kind::HangIgnoreTerm);
        assert_eq!(kind("freeze=login"), Kind::Login);
        assert_eq!(kind("freeze=login-hang"), Kind::LoginHang);
        assert_eq!(kind("freeze=crash"), Kind::Crash(Signal::SIGKILL));
        assert_eq!(kind("freeze=crash:SEGV"), Kind::Crash(Signal::SIGSEGV));
        assert_eq!(
            kind("freeze=then-crash:6"),
            Kind::ThenCrash(Signal::SIGABRT)
        );
        assert_eq!(kind("freeze=exit:0"), Kind::Exit(0));
        assert_eq!(kind("check=answer:3"), Kind::Answer(3));
        assert_eq!(kind("check=silent:3"), Kind::Silent(3));
        assert_eq!(kind("freeze=then-exit:255"), Kind::ThenExit(255));
        assert_eq!(kind("freeze=then-hang"), Kind::ThenHang);
        assert_eq!(kind("freeze=slow:500"), Kind::Slow(500));
        assert_eq!(kind("freeze=huge"), Kind::Huge(1_048_576));
        assert_eq!(kind("freeze=huge:10"), Kind::Huge(10));
        assert_eq!(kind("freeze=grandchild"), Kind::Grandchild(30));
        assert_eq!(kind("freeze=binary"), Kind::Binary);
        assert_eq!(kind("freeze=echo-input"), Kind::EchoInput);
        assert_eq!(
            kind(r"freeze=print:node=$(x) \x1b]0;t\x07\\ \x40 a:b"),
            Kind::Print(b"node=$(x) \x1b]0;t\x07\\ @ a:b".to_vec())
        );
        assert!(parse_fault(r"freeze=print:\q").is_err());
        assert!(parse_fault(r"freeze=print:\x1").is_err());
    }

    #[test]
    fn call_and_limit() {
        let f = parse_fault(" iris-qlist = fail @ 2 ").expect("valid");
        assert_eq!(f.call, Call::IrisQlist);
        assert_eq!(f.kind, Kind::Fail);
        assert_eq!(f.limit, Some(2));
        assert_eq!(parse_fault("stat=hang").expect("valid").limit, None);
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let err = |line: &str| parse_fault(line).expect_err(line);
        assert_eq!(err("freeze"), "fault `freeze` is not CALL=SPEC");
        assert_eq!(err("qlist=fail"), "unknown call `qlist`");
        assert_eq!(err("freeze=explode"), "unknown fault kind `explode`");
        assert_eq!(err("freeze=fail@x"), "bad @N in `fail@x`");
        assert_eq!(err("freeze=fail:1"), "`fail` takes no argument");
        assert_eq!(err("freeze=slow"), "`slow` needs :MS");
        assert_eq!(
            err("freeze=exit:256"),
            "exit code out of range in `exit:256`"
        );
        assert_eq!(err("freeze=huge:lots"), "bad number in `huge:lots`");
        assert_eq!(err("freeze=crash:NOPE"), "unknown signal `NOPE`");
        assert_eq!(err("freeze=crash:999"), "bad signal number `999`");
    }
}
