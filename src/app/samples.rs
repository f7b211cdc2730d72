//! The last samples the node published (one a second), so a window opened now can draw
//! the last ten minutes at once instead of starting an empty chart.

use std::collections::VecDeque;

use crate::node::Event;

/// How many samples are kept: ten minutes at 1 Hz.
pub const KEEP: usize = 600;

/// A ring buffer of sample events, oldest first.
#[derive(Debug, Default)]
pub struct SampleRing(VecDeque<Event>);

impl SampleRing {
    /// Adds one, dropping the oldest beyond [`KEEP`].
    pub fn push(&mut self, event: Event) {
        if self.0.len() == KEEP {
            self.0.pop_front();
        }
        self.0.push_back(event);
    }

    /// All kept, oldest first.
    pub fn to_vec(&self) -> Vec<Event> {
        self.0.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{EventKind, NodeState, Reason};

    #[test]
    fn keeps_the_last_600_in_order() {
        let mut ring = SampleRing::default();
        for i in 0..700u64 {
            let mut e = Event::now(EventKind::State { state: NodeState::Waiting, reason: Reason::Starting });
            e.ts_ms = i;
            ring.push(e);
        }
        let v = ring.to_vec();
        assert_eq!(v.len(), KEEP);
        assert_eq!((v[0].ts_ms, v[KEEP - 1].ts_ms), (100, 699));
    }
}
