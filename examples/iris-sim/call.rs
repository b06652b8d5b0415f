//! What was invoked: the calls named in the call log and in fault lines, and the three
//! simulated programs.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Call {
    Freeze,
    Thaw,
    Check,
    History,
    Stat,
    IrisQlist,
    CcontrolQlist,
    Other,
}

impl Call {
    const ALL: [Call; 8] = [
        Call::Freeze,
        Call::Thaw,
        Call::Check,
        Call::History,
        Call::Stat,
        Call::IrisQlist,
        Call::CcontrolQlist,
        Call::Other,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Call::Freeze => "freeze",
            Call::Thaw => "thaw",
            Call::Check => "check",
            Call::History => "history",
            Call::Stat => "stat",
            Call::IrisQlist => "iris-qlist",
            Call::CcontrolQlist => "ccontrol-qlist",
            Call::Other => "other",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Call> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }

    /// Session calls report a `fail` fault on stdout with exit 3, as IRIS does.
    pub(crate) fn is_session(self) -> bool {
        matches!(
            self,
            Call::Freeze | Call::Thaw | Call::Check | Call::History | Call::Other
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prog {
    Iris,
    Csession,
    Ccontrol,
}

impl Prog {
    pub(crate) fn parse(s: &str) -> Option<Prog> {
        match s {
            "iris" => Some(Prog::Iris),
            "csession" => Some(Prog::Csession),
            "ccontrol" => Some(Prog::Ccontrol),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Prog::Iris => "iris",
            Prog::Csession => "csession",
            Prog::Ccontrol => "ccontrol",
        }
    }

    /// The instances this program lists and serves (conf key `registry`).
    pub(crate) fn registry(self) -> &'static str {
        match self {
            Prog::Iris => "iris",
            Prog::Csession | Prog::Ccontrol => "cache",
        }
    }

    pub(crate) fn usage(self) -> &'static str {
        match self {
            Prog::Iris => {
                "usage: iris qlist [NAME] | iris session|terminal NAME [-U NAMESPACE] [EXPR] | iris stat NAME [-W]"
            }
            Prog::Csession => "usage: csession NAME [-U NAMESPACE] [EXPR]",
            Prog::Ccontrol => {
                "usage: ccontrol qlist [NAME] | ccontrol session NAME [-U NAMESPACE] [EXPR] | ccontrol stat NAME [-W]"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_parses_back_from_its_name() {
        for call in Call::ALL {
            assert_eq!(Call::parse(call.name()), Some(call));
        }
        assert_eq!(Call::parse("Freeze"), None);
        assert_eq!(Call::parse("qlist"), None);
    }

    #[test]
    fn programs_and_their_registries() {
        for (name, registry) in [
            ("iris", "iris"),
            ("csession", "cache"),
            ("ccontrol", "cache"),
        ] {
            let prog = Prog::parse(name).expect(name);
            assert_eq!(prog.name(), name);
            assert_eq!(prog.registry(), registry);
            assert!(prog.usage().starts_with(&format!("usage: {name} ")));
        }
        assert!(Prog::parse("iris-sim").is_none());
    }
}
