//! A stable sort for the configuration's short lists, sorted once when it
//! is compiled. Each element type `slice::sort` is used with adds its own
//! driftsort to the module, 6 to 7 KiB of wasm apiece; an insertion sort is
//! a few hundred bytes, and lists of header names, token locations or Istio
//! JWT rules are short. (Never for what a request brings: O(n^2).)

/// Sorts `v` stably by `less`, in O(n^2) comparisons.
pub(crate) fn sort_small_by<T>(v: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    for i in 1..v.len() {
        for j in (1..=i).rev() {
            let prev = j.saturating_sub(1);
            match (v.get(prev), v.get(j)) {
                (Some(a), Some(b)) if less(b, a) => v.swap(prev, j),
                _ => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_the_standard_stable_sort_keeping_equal_elements_in_order() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for len in 0..60 {
            let v: Vec<(u8, usize)> = (0..len)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    ((x % 5) as u8, i)
                })
                .collect();
            let mut ours = v.clone();
            sort_small_by(&mut ours, |a, b| a.0 < b.0);
            let mut std = v;
            std.sort_by_key(|e| e.0);
            assert_eq!(ours, std);
        }
    }

    #[test]
    fn sorts_strings() {
        let mut v = vec![
            "b".to_owned(),
            "a".to_owned(),
            "c".to_owned(),
            "a".to_owned(),
        ];
        sort_small_by(&mut v, |a, b| a < b);
        assert_eq!(v, ["a", "a", "b", "c"]);
    }
}
