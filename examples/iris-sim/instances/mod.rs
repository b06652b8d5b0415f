//! The simulated instances under `$IRIS_SIM_DIR`: their `conf`, the registry that lists and
//! finds them, their qlist lines.

mod conf;
mod qlist;
mod registry;

pub(crate) use conf::{CONF_KEYS, read_kv};
pub(crate) use qlist::qlist_line;
pub(crate) use registry::{Instance, find_instance, registry_instances, root_dir};
