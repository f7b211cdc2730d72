//! Splitting a job's sequences into batches (one lease each) by length bucket: the
//! node pads every sequence of a batch to the batch's longest, so sequences of similar
//! length go together. Sorted by length, then cut when a batch would exceed its row
//! cap or its padded-token budget (rows × longest), so a lease's work is bounded
//! whatever the client sent.
//!
//! A job's batches are planned once (its plan is stored with the job) and leased in
//! plan order: the job's counter of leased inputs is the plan offset of the next
//! batch ([`batch_at`]). Each part records its input indices, and the result is
//! scattered back to request order when the job is assembled.

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

/// The batch of `plan` that starts at input offset `offset` (the sum of the earlier
/// batches' sizes); `None` when no batch starts there.
pub fn batch_at(plan: &[Vec<usize>], offset: u64) -> Option<&[usize]> {
    let mut start = 0u64;
    for b in plan {
        if start == offset {
            return Some(b);
        }
        start += b.len() as u64;
    }
    None
}

/// Padded token slots of `plan` over `lengths` (rows × longest, summed): the GPU work
/// a node does, against `lengths.iter().sum()` useful tokens.
pub fn padded_tokens(plan: &[Vec<usize>], lengths: &[usize]) -> usize {
    plan.iter().map(|b| b.len() * b.iter().map(|&i| lengths.get(i).copied().unwrap_or(0)).max().unwrap_or(0)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_found_by_their_offset_and_pad_less_than_request_order() {
        // Alternating short and long texts, as a mixed client request looks.
        let lengths: Vec<usize> = (0..64).map(|i| if i % 2 == 0 { 8 } else { 120 }).collect();
        let limits = BatchLimits { max_rows: 32, max_padded_tokens: 32 * 128 };
        let plan = length_buckets(&lengths, limits);
        assert_eq!(plan.len(), 2);
        assert!(plan[0].iter().all(|&i| lengths[i] == 8), "{plan:?}");
        assert_eq!(batch_at(&plan, 0), Some(plan[0].as_slice()));
        assert_eq!(batch_at(&plan, 32), Some(plan[1].as_slice()));
        assert_eq!(batch_at(&plan, 5), None);
        assert_eq!(batch_at(&plan, 64), None);
        // In request order every batch pads to 120; by length half of them pad to 8.
        let in_order: Vec<Vec<usize>> = (0..2).map(|b| (b * 32..b * 32 + 32).collect()).collect();
        assert_eq!(padded_tokens(&in_order, &lengths), 64 * 120);
        assert_eq!(padded_tokens(&plan, &lengths), 32 * 8 + 32 * 120);
    }

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
