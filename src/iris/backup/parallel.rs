//! Running one call on many instances at once, bounded.

use crate::util::parallel::each_bounded;

/// At most this many IRIS calls run at once; more instances are done in waves (a host with
/// hundreds of instances must not start hundreds of processes at once).
pub(crate) const MAX_PARALLEL: usize = 32;

/// Runs `f` on every item at once, up to [`MAX_PARALLEL`] at a time (the freeze window of four
/// instances must be one instance's, not four), results in input order.
pub(crate) fn each<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    each_bounded(items, MAX_PARALLEL, f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::parallel::tests::peak;

    #[test]
    fn each_runs_at_most_max_parallel_calls_at_once() {
        let (top, out) = peak(MAX_PARALLEL + 1, MAX_PARALLEL, |items, f| each(items, f));
        assert_eq!(top, MAX_PARALLEL);
        assert_eq!(out, (0..=MAX_PARALLEL).map(|i| i * 10).collect::<Vec<_>>());
    }

    #[test]
    fn fewer_items_than_the_cap_all_run_at_once_the_first_on_this_thread() {
        let (top, _) = peak(4, MAX_PARALLEL, |items, f| each(items, f));
        assert_eq!(top, 4);
        let me = std::thread::current().id();
        let ids = each(&[0, 1], |_| std::thread::current().id());
        assert_eq!(ids[0], me);
        assert_ne!(ids[1], me);
        assert!(each(&[] as &[u8], |_| 0).is_empty());
    }
}
