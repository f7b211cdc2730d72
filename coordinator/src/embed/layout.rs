//! What a node sees of a batch: the client's sequences and a few canaries, shuffled
//! together so no position tells a canary from a client row. The [`Layout`] is the
//! coordinator's secret record of which row is which; it is stored with the lease and
//! used to verify the answer and to put the client's vectors back in request order.

use serde::{Deserialize, Serialize};

use super::verify::Picker;

/// One row of a leased batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", content = "i", rename_all = "snake_case")]
pub enum Slot {
    /// The client's input number `i` (its index in the job's request order).
    Client(usize),
    /// Canary number `i` of the coordinator's canary set.
    Canary(usize),
}

/// The rows of a batch in the order the node gets them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// Row → what it is.
    pub slots: Vec<Slot>,
}

impl Layout {
    /// Shuffles the client inputs `client` (job indices) with `canaries` (canary
    /// numbers).
    pub fn shuffled(client: &[usize], canaries: &[usize], picker: &mut Picker) -> Self {
        let mut slots: Vec<Slot> =
            client.iter().map(|&i| Slot::Client(i)).chain(canaries.iter().map(|&i| Slot::Canary(i))).collect();
        let perm = picker.permutation(slots.len());
        slots = perm.into_iter().map(|p| slots[p]).collect();
        Self { slots }
    }

    /// Rows that are canaries: (row, canary number).
    pub fn canaries(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.slots.iter().enumerate().filter_map(|(r, s)| match s {
            Slot::Canary(i) => Some((r, *i)),
            Slot::Client(_) => None,
        })
    }

    /// Rows that are the client's: (row, job index).
    pub fn client_rows(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.slots.iter().enumerate().filter_map(|(r, s)| match s {
            Slot::Client(i) => Some((r, *i)),
            Slot::Canary(_) => None,
        })
    }

    /// The node's sequences: each slot's ids, from the job's and the canaries'.
    pub fn sequences(&self, client: &[Vec<u32>], canaries: &[Vec<u32>]) -> Option<Vec<Vec<u32>>> {
        self.slots
            .iter()
            .map(|s| match *s {
                Slot::Client(i) => client.get(i).cloned(),
                Slot::Canary(i) => canaries.get(i).cloned(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layout_holds_every_row_once_and_hides_canaries_anywhere() {
        let client: Vec<usize> = (10..40).collect();
        let mut at_start = 0;
        for seed in 0..200 {
            let l = Layout::shuffled(&client, &[0, 1], &mut Picker::new(seed));
            assert_eq!(l.slots.len(), 32);
            let mut c: Vec<usize> = l.client_rows().map(|(_, i)| i).collect();
            c.sort_unstable();
            assert_eq!(c, client);
            assert_eq!(l.canaries().count(), 2);
            if l.canaries().any(|(r, _)| r == 0) {
                at_start += 1;
            }
        }
        // Canaries land on row 0 about 2/32 of the time, not never.
        assert!((3..40).contains(&at_start), "{at_start}");
        let l = Layout::shuffled(&[0, 1], &[0], &mut Picker::new(1));
        let seqs = l.sequences(&[vec![1], vec![2]], &[vec![9]]).unwrap();
        assert_eq!(seqs.len(), 3);
        assert!(seqs.contains(&vec![9]));
        assert!(l.sequences(&[vec![1]], &[vec![9]]).is_none(), "a missing input is refused");
        assert_eq!(serde_json::to_string(&Slot::Canary(3)).unwrap(), r#"{"t":"canary","i":3}"#);
    }
}
