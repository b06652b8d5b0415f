//! A small deterministic PRNG (splitmix64): every choice of a cycle comes from its seed, so a
//! cycle is replayed by its seed and number alone.

pub struct Rng(u64);

impl Rng {
    /// The generator of cycle `cycle` of the soak seeded `seed`: independent of the order the
    /// workers take the cycles in.
    pub fn for_cycle(seed: u64, cycle: u64) -> Rng {
        let mut r = Rng(seed ^ cycle.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next();
        r
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() as usize % items.len()]
    }

    /// One of `items`, each as likely as its weight.
    pub fn weighted<'a, T>(&mut self, items: &'a [(u64, T)]) -> &'a T {
        let total: u64 = items.iter().map(|(w, _)| w).sum();
        let mut n = self.next() % total;
        for (w, item) in items {
            if n < *w {
                return item;
            }
            n -= w;
        }
        unreachable!()
    }
}
