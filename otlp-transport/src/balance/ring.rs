//! A consistent-hash ring: each endpoint owns many points, so adding or removing one moves
//! only the keys next to its points.

/// Points per endpoint; more points spread keys more evenly.
const POINTS_PER_ENDPOINT: usize = 160;

/// 64-bit FNV-1a followed by MurmurHash3's finalizer: stable across runs and platforms, which
/// a ring needs, and well mixed in the high bits, which FNV alone is not for short, similar
/// inputs (`name#1`, `name#2`, ...).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

/// The routing key of a trace: its id hashed.
pub fn trace_key(trace_id: &[u8]) -> u64 {
    fnv1a(trace_id)
}

/// The ring over a list of endpoint names.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ring {
    points: Vec<(u64, usize)>,
    endpoints: usize,
}

impl Ring {
    pub(crate) fn new(names: &[&str]) -> Self {
        let mut points = Vec::with_capacity(names.len() * POINTS_PER_ENDPOINT);
        for (index, name) in names.iter().enumerate() {
            for point in 0..POINTS_PER_ENDPOINT {
                points.push((fnv1a(format!("{name}#{point}").as_bytes()), index));
            }
        }
        points.sort_unstable();
        Ring {
            points,
            endpoints: names.len(),
        }
    }

    /// The endpoints in the order a key visits them: its owner first, then the next distinct
    /// endpoints clockwise (the failover order).
    pub(crate) fn order(&self, key: u64) -> Vec<usize> {
        if self.points.is_empty() {
            return Vec::new();
        }
        let start = self.points.partition_point(|(point, _)| *point < key);
        let mut order = Vec::with_capacity(self.endpoints);
        for offset in 0..self.points.len() {
            let (_, index) = self.points[(start + offset) % self.points.len()];
            if !order.contains(&index) {
                order.push(index);
                if order.len() == self.endpoints {
                    break;
                }
            }
        }
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_spread_and_few_move_when_an_endpoint_joins() {
        let three = Ring::new(&["a", "b", "c"]);
        let four = Ring::new(&["a", "b", "c", "d"]);
        let mut counts = [0usize; 3];
        let mut moved = 0;
        for key in 0..30_000u64 {
            let key = fnv1a(&key.to_le_bytes());
            let owner = three.order(key)[0];
            counts[owner] += 1;
            if four.order(key)[0] != owner {
                moved += 1;
            }
        }
        assert!(
            counts.iter().all(|c| (8_000..12_000).contains(c)),
            "{counts:?}"
        );
        // Ideally a quarter of the keys move to the new endpoint, and only those.
        assert!((5_500..9_500).contains(&moved), "{moved} keys moved");
    }

    #[test]
    fn the_failover_order_visits_every_endpoint_once() {
        let ring = Ring::new(&["a", "b", "c"]);
        let mut order = ring.order(42);
        order.sort_unstable();
        assert_eq!(order, vec![0, 1, 2]);
        assert!(Ring::new(&[]).order(1).is_empty());
    }
}
