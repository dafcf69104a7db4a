//! What one evaluation sees of the worker ([`crate::authn::Runtime`]):
//! remote keys, refetches on unknown key ids, the verified-token cache,
//! introspection answers; and what it reports: metric counts and the
//! decision log line.

use super::{Host, Level, Worker};
use crate::authn::dpop::Replay;
use crate::authn::{Availability, Callout, Introspected, Runtime};
use crate::cache::Hit;
use crate::decision_log;
use crate::dpop::keys::ProofKey;
use crate::metrics::KeyEvent;
use crate::trace::Event;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// The worker as one request's evaluation sees it. Interior mutability:
/// evaluation holds `&dyn Runtime`, and asking for keys may schedule a fetch.
pub struct View<'a> {
    worker: RefCell<&'a mut Worker>,
    /// Callouts this request already waited for: their round has ended, so
    /// it is answered with what is there instead of waiting again.
    done: &'a [Callout],
    /// Shared data: other workers' introspection answers, the DPoP
    /// replay store.
    host: RefCell<&'a mut dyn Host>,
    /// Verified-token cache lookups (hits, misses) of this evaluation,
    /// counted once it decides: an evaluation that waits for keys looks
    /// its token up again when it runs again, and jwt_authn counts one.
    lookups: Cell<(u32, u32)>,
}

impl<'a> View<'a> {
    pub(super) fn new(
        worker: &'a mut Worker,
        done: &'a [Callout],
        host: &'a mut dyn Host,
    ) -> View<'a> {
        View {
            worker: RefCell::new(worker),
            done,
            host: RefCell::new(host),
            lookups: Cell::new((0, 0)),
        }
    }
}

impl Runtime for View<'_> {
    fn remote_keys(&self, provider: usize, now: u64) -> Availability {
        let mut worker = self.worker.borrow_mut();
        let Some(f) = worker.fetch_mut(provider) else {
            return Availability::Unavailable;
        };
        let fresh = f.keys.fresh(now);
        if !fresh {
            // Expired but still served (stale-if-error): refresh meanwhile.
            f.keys.mark_waiting(now);
        }
        if let Some(keys) = f.keys.keys(now) {
            let ready = Availability::Ready(keys.clone(), f.keys.generation());
            if !fresh {
                worker.counts.keys(provider, KeyEvent::StaleServed);
            }
            return ready;
        }
        // The last round failed moments ago: answer now, don't queue up.
        if f.keys.backing_off(now) || self.done.contains(&Callout::Keys(provider)) {
            return Availability::Unavailable;
        }
        Availability::Pending
    }

    fn unknown_kid(&self, provider: usize, now: u64) -> bool {
        if self.done.contains(&Callout::Keys(provider)) {
            return false;
        }
        let mut worker = self.worker.borrow_mut();
        worker
            .fetch_mut(provider)
            .is_some_and(|f| f.keys.unknown_kid(now))
    }

    fn cached(&self, token: &str) -> Option<Hit> {
        let worker = self.worker.borrow();
        if !worker.cache.enabled() {
            return None;
        }
        let hit = worker.cache.get(token);
        let (hits, misses) = self.lookups.get();
        self.lookups.set(match hit {
            Some(_) => (hits.saturating_add(1), misses),
            None => (hits, misses.saturating_add(1)),
        });
        hit
    }

    fn remember(&self, token: &str, hit: Hit) {
        self.worker.borrow_mut().cache.insert(token, hit);
    }

    fn introspected(&self, provider: usize, key: &[u8; 32], token: &str, now: u64) -> Introspected {
        let waited = self.done.contains(&Callout::Introspect {
            provider,
            key: *key,
        });
        let mut worker = self.worker.borrow_mut();
        let answer = match worker.introspection_mut(provider) {
            Some(i) => i.lookup(&**self.host.borrow(), key, token, now, waited),
            None => return Introspected::Unavailable,
        };
        // Once per request: a request evaluated again after the call it
        // waited for was counted as a miss already.
        if !waited {
            let hit = !matches!(answer, Introspected::Pending);
            worker.counts.introspection_cache(provider, hit);
        }
        answer
    }

    fn first_use(&self, slot: &str, key: &str, until_ms: u64, now_ms: u64) -> Replay {
        let mut host = self.host.borrow_mut();
        let mut worker = self.worker.borrow_mut();
        super::replay::first_use(&mut **host, &mut worker.replay, slot, key, until_ms, now_ms)
    }

    fn proof_key(&self, header: &str) -> Option<Rc<ProofKey>> {
        self.worker.borrow().proof_keys.get(header)
    }

    fn remember_proof_key(&self, header: &str, key: Rc<ProofKey>) {
        self.worker.borrow_mut().proof_keys.insert(header, key);
    }

    fn observe(&self, event: &Event<'_>) {
        let Event::Decided(d) = event else {
            return;
        };
        let mut worker = self.worker.borrow_mut();
        worker.counts.decided(d);
        let (hits, misses) = self.lookups.take();
        worker.counts.token_cache(hits, misses);
        let layout = worker.counts.layout();
        if let Some(line) = decision_log::line(worker.log, d, |i| layout.provider_name(i)) {
            self.host.borrow().log(Level::Debug, &line);
        }
    }
}
