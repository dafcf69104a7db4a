//! An introspection's periodic work: calls that went silent end, other
//! workers' outcomes are picked up, calls that will not answer are made
//! again.

use super::slot::Record;
use super::{Ended, Introspect, State, GRACE_MS};
use crate::callout::Host;

impl Introspect {
    /// Periodic work: lost calls end, other workers' answers are picked up,
    /// orphaned flights are asked again, old outcomes are dropped.
    pub(in crate::callout) fn tick(&mut self, host: &mut dyn Host, now: u64) {
        self.wanted.clear();
        let keep = self.budget_ms().saturating_add(GRACE_MS);
        self.ended
            .retain(|_, (_, at)| now.saturating_sub(*at) <= keep);
        let lost = self.settings.timeout_ms.saturating_add(GRACE_MS);
        let keys: Vec<([u8; 32], State)> = self.flights.iter().map(|f| (f.key, f.state)).collect();
        for (key, state) in keys {
            match state {
                State::Calling { since, .. } if now.saturating_sub(since) > lost => {
                    self.settle(
                        host,
                        &key,
                        Ended::Unavailable,
                        now,
                        "no answer (the call was lost)",
                    );
                }
                State::Calling { .. } => {}
                State::Elsewhere => self.watch(host, &key, now),
                State::Orphaned => self.redo(host, &key, now),
                State::AwaitingEndpoint => {}
            }
        }
        self.tick_discovery(host, now);
    }

    /// Another worker's call: its outcome, once in shared data, ends ours.
    fn watch(&mut self, host: &mut dyn Host, key: &[u8; 32], now: u64) {
        let ended = match self.read_slot(host, key).map(|(r, _)| r) {
            Some(Record::Asking(until)) if until > now => return,
            Some(Record::Answer(r)) => {
                let v = r.verdict.clone();
                self.cache.insert(*key, r);
                Ended::Verdict(v)
            }
            Some(Record::Failed { refused: true, .. }) => Ended::Refused,
            Some(Record::Failed { .. }) => Ended::Unavailable,
            // Its lease ran out, or another token took the slot: ask ourselves.
            _ => return self.redo(host, key, now),
        };
        self.flights.retain(|f| &f.key != key);
        self.ended.insert(*key, (ended, now));
    }

    /// Calls again, from the root, for a flight whose call will not answer.
    fn redo(&mut self, host: &mut dyn Host, key: &[u8; 32], now: u64) {
        let Some(token) = self
            .flights
            .iter()
            .find(|f| &f.key == key)
            .map(|f| f.token.clone())
        else {
            return;
        };
        if !self.lease(host, key, now) {
            self.set_state(key, State::Elsewhere);
            return;
        }
        if let Some(state) = self.ask(host, key, &token, None, now) {
            self.set_state(key, state);
        }
    }

    pub(super) fn set_state(&mut self, key: &[u8; 32], state: State) {
        for f in self.flights.iter_mut().filter(|f| &f.key == key) {
            f.state = state;
        }
    }
}
