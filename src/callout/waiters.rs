//! Parked requests: which callouts each waits for, from which settle count
//! on, and until when at the latest.

use super::Resume;
use crate::authn::Callout;

struct Waiter {
    context_id: u32,
    /// Each callout with its settle count when the request parked: once
    /// the count moves on, the callout's round has ended since.
    waits: Vec<(Callout, u64)>,
    /// Callouts waited for before (see [`Resume::done`]).
    done: Vec<Callout>,
    /// When the request is answered with whatever is there, settled or not.
    deadline: u64,
}

#[derive(Default)]
pub(super) struct Waiters(Vec<Waiter>);

impl Waiters {
    pub(super) fn park(
        &mut self,
        context_id: u32,
        waits: Vec<(Callout, u64)>,
        done: Vec<Callout>,
        deadline: u64,
    ) {
        self.0.push(Waiter {
            context_id,
            waits,
            done,
            deadline,
        });
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// Takes out the waiters whose every callout settled (`settled` gives a
    /// callout's settle count; `None`: nothing to wait for) or whose
    /// deadline passed.
    pub(super) fn ready(
        &mut self,
        now: u64,
        settled: impl Fn(Callout) -> Option<u64>,
    ) -> Vec<Resume> {
        let is_ready = |w: &Waiter| {
            now >= w.deadline
                || w.waits
                    .iter()
                    .all(|(c, at)| settled(*c).is_none_or(|s| s > *at))
        };
        let (ready, waiting): (Vec<Waiter>, Vec<Waiter>) =
            std::mem::take(&mut self.0).into_iter().partition(is_ready);
        self.0 = waiting;
        ready
            .into_iter()
            .map(|w| {
                let mut done = w.done;
                for (c, _) in w.waits {
                    if !done.contains(&c) {
                        done.push(c);
                    }
                }
                Resume {
                    context_id: w.context_id,
                    done,
                }
            })
            .collect()
    }
}
