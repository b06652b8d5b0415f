//! Fault injection: `CALL=SPEC` lines (`spec.rs`), the `@N` usage counters that pick the line
//! that applies (`counter.rs`), and what each fault does (`apply.rs`, `effects.rs`).

mod apply;
mod counter;
mod effects;
mod spec;

pub(crate) use apply::{apply_pre_faults, conclude, instance_faults};
pub(crate) use counter::take_fault as take_node_fault;
pub(crate) use effects::linger;
pub(crate) use spec::{Kind, parse_fault};
