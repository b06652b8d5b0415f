//! Names nobody else can guess ahead (temp files and directories in places others can write).

use std::hash::BuildHasher;

/// 64 bits from a hasher the standard library keys from the OS's random source.
pub(crate) fn unguessable() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::collections::hash_map::RandomState::new().hash_one((nanos, std::process::id()))
}
