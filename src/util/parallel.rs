//! Running one function on many items at once, with at most a given number running at a time.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `f` on every item, at most `limit` at a time, results in input order: the first item
/// runs on this thread, and `limit - 1` threads (no more than there are other items) take the
/// rest in order. A thread's start, and its stack's teardown at exit, are freeze window too, so
/// there is no pool to spare.
pub(crate) fn each_bounded<T: Sync, R: Send>(
    items: &[T],
    limit: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let Some(first) = items.first() else {
        return Vec::new();
    };
    let next = AtomicUsize::new(1);
    // Takes the next item not yet taken, until none is left.
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else {
                return done;
            };
            done.push((i, f(item)));
        }
    };
    let workers = limit.max(1).min(items.len()) - 1;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers).map(|_| s.spawn(work)).collect();
        let mut out = vec![(0, f(first))];
        // With more items than threads, this thread then takes its share too (with fewer, each
        // other item has its own thread, already started).
        if items.len() > limit {
            out.extend(work());
        }
        for h in handles {
            // A worker's panic is a bug: it goes on here, as it would have on one thread.
            out.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        out.sort_unstable_by_key(|&(i, _)| i);
        out.into_iter().map(|(_, r)| r).collect()
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Runs `run` over `n` items whose calls each hold their slot until more than `limit` run
    /// at once, or every item has started, or (when the cap holds) a second has passed; returns
    /// the peak concurrency and the results.
    pub(crate) fn peak(
        n: usize,
        limit: usize,
        run: impl Fn(&[usize], &(dyn Fn(&usize) -> usize + Sync)) -> Vec<usize>,
    ) -> (usize, Vec<usize>) {
        let now = AtomicUsize::new(0);
        let started = AtomicUsize::new(0);
        let top = AtomicUsize::new(0);
        let items: Vec<usize> = (0..n).collect();
        let call = |&i: &usize| {
            started.fetch_add(1, Ordering::SeqCst);
            let cur = now.fetch_add(1, Ordering::SeqCst) + 1;
            top.fetch_max(cur, Ordering::SeqCst);
            let until = Instant::now() + Duration::from_secs(1);
            while now.load(Ordering::SeqCst) <= limit
                && started.load(Ordering::SeqCst) < n
                && Instant::now() < until
            {
                std::thread::yield_now();
            }
            now.fetch_sub(1, Ordering::SeqCst);
            i * 10
        };
        let out = run(&items, &call);
        (top.load(Ordering::SeqCst), out)
    }

    #[test]
    fn each_bounded_keeps_its_cap_and_the_input_order() {
        let (top, _) = peak(4, 3, |items, f| each_bounded(items, 3, f));
        assert_eq!(top, 3);
        // Many quick calls: in input order, never more than the cap at once.
        let now = AtomicUsize::new(0);
        let top = AtomicUsize::new(0);
        let items: Vec<usize> = (0..200).collect();
        let out = each_bounded(&items, 5, |&i| {
            top.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
            now.fetch_sub(1, Ordering::SeqCst);
            i
        });
        assert_eq!(out, items);
        assert!(top.load(Ordering::SeqCst) <= 5);
    }
}
