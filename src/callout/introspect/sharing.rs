//! How a worker's introspections meet the other workers': answers taken
//! from a token's slot, and the lease that makes one worker ask.

use super::slot::{self, Record};
use super::{known, Introspect, GRACE_MS};
use crate::authn::Introspected;
use crate::callout::{shared_get_or_create, Host};

impl Introspect {
    /// Another worker's answer about `key`, installed here; `None` when
    /// there is none (or only a call under way or a failure).
    pub(super) fn take_shared(
        &mut self,
        host: &dyn Host,
        key: &[u8; 32],
        now: u64,
    ) -> Option<Introspected> {
        let Some(Record::Answer(r)) = self.read_slot(host, key).map(|(r, _)| r) else {
            return None;
        };
        let fresh = now < r.fresh_until;
        let answer = known(&r.verdict);
        self.cache.insert(*key, r);
        fresh.then_some(answer)
    }

    pub(super) fn read_slot(
        &self,
        host: &dyn Host,
        key: &[u8; 32],
    ) -> Option<(Record, Option<u32>)> {
        let (value, cas) = host.shared_get(&self.slot_name(key))?;
        slot::read(key, &value?).map(|r| (r, cas))
    }

    pub(super) fn slot_name(&self, key: &[u8; 32]) -> String {
        let slots = self.settings.max_entries.max(64);
        slot::slot_name(&self.settings.shared_prefix, key, slots)
    }

    /// Takes the token's slot for a call of ours; false when another
    /// worker's call is under way. Without shared data: true.
    pub(super) fn lease(&mut self, host: &mut dyn Host, key: &[u8; 32], now: u64) -> bool {
        let name = self.slot_name(key);
        // A missing slot is created first (never over another worker's
        // lease), so the lease below is guarded by a version.
        let Some((value, cas)) = shared_get_or_create(host, &name, b"-") else {
            return true;
        };
        let asking = |v: &Option<Vec<u8>>| matches!(v.as_deref().and_then(|v| slot::read(key, v)), Some(Record::Asking(until)) if until > now);
        if asking(&value) {
            return false;
        }
        let until = now
            .saturating_add(self.settings.timeout_ms)
            .saturating_add(GRACE_MS);
        let lease = slot::write(key, &Record::Asking(until));
        if host.shared_set(&name, &lease, cas) {
            return true;
        }
        // Lost the race: wait for the winner if it asks about this token.
        !host.shared_get(&name).is_some_and(|(v, _)| asking(&v))
    }
}
