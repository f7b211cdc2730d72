//! Splitting a job's sequences into batches (one lease each) by length bucket: the
//! node pads every sequence of a batch to the batch's longest, so sequences of similar
//! length go together. Sorted by length, then cut when a batch would exceed its row
//! cap or its padded-token budget (rows × longest), so a lease's work is bounded
//! whatever the client sent.

/// How big a batch may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Client rows per batch (canaries come on top).
    pub max_rows: usize,
    /// Rows × longest sequence per batch.
    pub max_padded_tokens: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        Self { max_rows: 32, max_padded_tokens: 32 * 128 }
    }
}

/// Groups the indices of `lengths` into batches, shortest first; every index appears
/// exactly once; the order inside a batch is by length (ties by index).
pub fn length_buckets(lengths: &[usize], limits: BatchLimits) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| (lengths[i], i));
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut cur: Vec<usize> = Vec::new();
    for i in order {
        let longest = lengths[i].max(1);
        let fits = cur.len() < limits.max_rows.max(1) && (cur.len() + 1) * longest <= limits.max_padded_tokens.max(1);
        if !cur.is_empty() && !fits {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(i);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_index_once_and_respect_the_limits() {
        let lengths: Vec<usize> = (0..200).map(|i| 2 + (i * 7919) % 255).collect();
        let limits = BatchLimits { max_rows: 16, max_padded_tokens: 16 * 64 };
        let batches = length_buckets(&lengths, limits);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..200).collect::<Vec<_>>());
        for b in &batches {
            let longest = b.iter().map(|&i| lengths[i]).max().unwrap();
            assert!(b.len() <= 16);
            assert!(b.len() * longest <= 16 * 64 || b.len() == 1, "{} rows × {longest}", b.len());
        }
        // Similar lengths together: each batch's spread is small against the whole range.
        let short = &batches[0];
        assert!(short.iter().all(|&i| lengths[i] < 40));
    }

    #[test]
    fn edge_cases() {
        assert!(length_buckets(&[], BatchLimits::default()).is_empty());
        assert_eq!(length_buckets(&[300], BatchLimits { max_rows: 4, max_padded_tokens: 10 }), vec![vec![0]]);
        assert_eq!(length_buckets(&[3, 1, 2], BatchLimits::default()), vec![vec![1, 2, 0]]);
    }
}
