//! What each setting is called wherever it can be given. The bottom of the house: every layer
//! may name a setting, none of them needs `config` to do it.

pub(crate) mod env;
