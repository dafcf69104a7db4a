//! The module's metrics: their names, laid out once at configure time into
//! a table of slots, and the counts a request adds, kept as slot deltas for
//! the glue to hand to the host ([`Counts::drain`]). Nothing here formats
//! or allocates per request.
//!
//! proxy-wasm metrics have no labels, so labels go into the name in one
//! regular form, `<family>.<label>=<value>`, always at the end (Kong's
//! Prometheus plugin cuts the name at the first label), which the gateway
//! turns back into labels (docs/metrics-and-logs.md):
//! - `jwt_authn.[<stat_prefix>.]<stat>`: the filter-wide counters of
//!   Envoy's `jwt_authn`, same names, same prefix rule;
//! - `jwt_guard.[<stat_prefix>.]<family>[.provider=<p>][.reason=<r>]`.

mod names;

use crate::authn::Providers;
use crate::outcome::Reason;
use crate::trace::Decided;
pub use names::{provider_label, stat_prefix};

/// Counter (only grows) or gauge (goes up and down).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
}

/// One metric to define.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metric {
    pub name: String,
    pub kind: Kind,
}

/// `jwt_authn`'s own counters, in slot order.
const ENVOY: [&str; 7] = [
    "allowed",
    "denied",
    "cors_preflight_bypassed",
    "jwks_fetch_success",
    "jwks_fetch_failed",
    "jwt_cache_hit",
    "jwt_cache_miss",
];
const ALLOWED: usize = 0;
const DENIED: usize = 1;
const CORS: usize = 2;
const FETCH_OK: usize = 3;
const FETCH_FAILED: usize = 4;
const CACHE_HIT: usize = 5;
const CACHE_MISS: usize = 6;
/// `jwt_guard.denied.reason=<r>`, one per [`Reason::ALL`].
const DENIED_BY: usize = ENVOY.len();
const IN_FLIGHT: usize = DENIED_BY + Reason::ALL.len();

/// Per remote-keys provider, from its base slot.
const KEYS: [&str; 4] = [
    "jwks_fetch_success",
    "jwks_fetch_failed",
    "jwks_stale_served",
    "jwks_keys_skipped",
];
/// Per introspection provider, from its base slot.
const INTROSPECTION: [&str; 2] = ["introspection_cache_hit", "introspection_cache_miss"];

/// What a remote-keys provider counts, and how many times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyEvent {
    /// This many JWKS (or discovery document and JWKS) came and parsed.
    Fetched(u32),
    /// This many calls failed: no answer, a bad status, an unusable body.
    Failed(u32),
    /// A request was served keys past their expiry (while a refresh is
    /// under way, or stale-if-error).
    StaleServed,
    /// A fetched JWKS had this many keys the module cannot use.
    Skipped(u32),
}

/// Where one provider's metrics sit in the table.
#[derive(Clone, Copy, Debug)]
struct Slots {
    allowed: usize,
    /// `denied.reason=<r>` at `denied + r.index()`.
    denied: usize,
    keys: Option<usize>,
    introspection: Option<usize>,
}

/// Every metric of one configuration, and where each provider's are.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    metrics: Vec<Metric>,
    providers: Vec<Slots>,
    /// Configured provider names, as the decision log names them.
    names: Vec<String>,
}

impl Layout {
    /// The table for these providers under `stat_prefix` (Envoy's
    /// `stat_prefix`, possibly empty).
    pub fn new(stat_prefix: &str, providers: &Providers) -> Layout {
        let sp = names::stat_prefix(stat_prefix);
        let mut metrics: Vec<Metric> = ENVOY
            .iter()
            .map(|s| counter(format!("jwt_authn.{sp}{s}")))
            .collect();
        for r in Reason::ALL {
            metrics.push(counter(format!("jwt_guard.{sp}denied.reason={}", r.name())));
        }
        metrics.push(Metric {
            name: format!("jwt_guard.{sp}callouts_in_flight"),
            kind: Kind::Gauge,
        });
        let labels = names::provider_labels(providers.iter().map(|p| p.name.as_str()));
        let mut slots = Vec::with_capacity(providers.len());
        for (p, label) in providers.iter().zip(&labels) {
            let family = |f: &str| format!("jwt_guard.{sp}{f}.provider={label}");
            let allowed = push(&mut metrics, family("provider_allowed"));
            let denied = metrics.len();
            for r in Reason::ALL {
                let name = format!("{}.reason={}", family("provider_denied"), r.name());
                push(&mut metrics, name);
            }
            let remote = matches!(p.keys, crate::authn::Keys::Remote { .. });
            let keys = remote.then(|| {
                let base = metrics.len();
                for f in KEYS {
                    push(&mut metrics, family(f));
                }
                base
            });
            let introspection = p.introspection.is_some().then(|| {
                let base = metrics.len();
                for f in INTROSPECTION {
                    push(&mut metrics, family(f));
                }
                base
            });
            slots.push(Slots {
                allowed,
                denied,
                keys,
                introspection,
            });
        }
        Layout {
            metrics,
            providers: slots,
            names: providers.iter().map(|p| p.name.clone()).collect(),
        }
    }

    /// Every metric, by slot.
    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    /// The configured name of the provider at `index`.
    pub fn provider_name(&self, index: usize) -> Option<&str> {
        self.names.get(index).map(String::as_str)
    }

    fn provider(&self, index: usize) -> Option<&Slots> {
        self.providers.get(index)
    }
}

/// Adds a counter; its slot.
fn push(metrics: &mut Vec<Metric>, name: String) -> usize {
    metrics.push(counter(name));
    metrics.len().saturating_sub(1)
}

fn counter(name: String) -> Metric {
    Metric {
        name,
        kind: Kind::Counter,
    }
}

/// A worker's counts not yet handed to the host: a delta per slot, and the
/// slots touched since the last hand-over, in the order first touched. A
/// request adds to a few deltas; the glue hands them over on its tick, one
/// host call per slot that moved however many requests moved it. Nothing
/// allocates once warm.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    layout: Layout,
    deltas: Vec<i64>,
    touched: Vec<usize>,
    /// Callouts in flight as last reported to the gauge.
    in_flight: i64,
}

impl Counts {
    pub fn new(layout: Layout) -> Counts {
        Counts {
            deltas: vec![0; layout.metrics.len()],
            touched: Vec::with_capacity(16),
            layout,
            in_flight: 0,
        }
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    fn add(&mut self, slot: usize, delta: i64) {
        // An empty layout (tests, the CLI) counts nothing.
        let Some(d) = self.deltas.get_mut(slot) else {
            return;
        };
        if *d == 0 && !self.touched.contains(&slot) {
            self.touched.push(slot);
        }
        *d = d.saturating_add(delta);
    }

    /// A decided request. Filter-wide: `allowed` or `denied` and
    /// `denied.reason=<r>`. Per provider: `provider_allowed` once for each
    /// provider whose token let it through, `provider_denied` for the
    /// provider the denial is about. A CORS preflight let through also
    /// counts as `cors_preflight_bypassed`, as in Envoy.
    pub fn decided(&mut self, d: &Decided<'_>) {
        if d.cors_preflight {
            self.add(CORS, 1);
        }
        let Some(reason) = d.denied else {
            self.add(ALLOWED, 1);
            for (i, v) in d.verified.iter().enumerate() {
                // One count per provider, however many of its tokens.
                let seen = d.verified.get(..i).unwrap_or_default();
                if seen.iter().any(|s| s.provider == v.provider) {
                    continue;
                }
                if let Some(s) = self.layout.provider(v.provider).map(|s| s.allowed) {
                    self.add(s, 1);
                }
            }
            return;
        };
        self.add(DENIED, 1);
        self.add(DENIED_BY.saturating_add(reason.index()), 1);
        if let Some(p) = d.provider.and_then(|p| self.layout.provider(p)) {
            let slot = p.denied.saturating_add(reason.index());
            self.add(slot, 1);
        }
    }

    /// Lookups in the verified-token cache.
    pub fn token_cache(&mut self, hits: u32, misses: u32) {
        for (slot, n) in [(CACHE_HIT, hits), (CACHE_MISS, misses)] {
            if n > 0 {
                self.add(slot, i64::from(n));
            }
        }
    }

    /// A lookup in a provider's introspection answers (this worker's, or
    /// shared by another): a miss is a call to make.
    pub fn introspection_cache(&mut self, provider: usize, hit: bool) {
        if let Some(base) = self.layout.provider(provider).and_then(|s| s.introspection) {
            self.add(base.saturating_add(usize::from(!hit)), 1);
        }
    }

    /// Something about a provider's remote keys; fetches also count in
    /// the filter-wide `jwks_fetch_*`.
    pub fn keys(&mut self, provider: usize, event: KeyEvent) {
        let Some(base) = self.layout.provider(provider).and_then(|s| s.keys) else {
            return;
        };
        // Filter-wide slot (if any), the provider's, and how many.
        let (wide, own, n) = match event {
            KeyEvent::Fetched(n) => (Some(FETCH_OK), base, n),
            KeyEvent::Failed(n) => (Some(FETCH_FAILED), base.saturating_add(1), n),
            KeyEvent::StaleServed => (None, base.saturating_add(2), 1),
            KeyEvent::Skipped(n) => (None, base.saturating_add(3), n),
        };
        if n == 0 {
            return;
        }
        if let Some(wide) = wide {
            self.add(wide, i64::from(n));
        }
        self.add(own, i64::from(n));
    }

    /// This worker's callouts in flight now: the gauge moves by the change
    /// (workers share the gauge, so each adds its own part).
    pub fn in_flight(&mut self, now: usize) {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let delta = now.saturating_sub(self.in_flight);
        if delta != 0 {
            self.in_flight = now;
            self.add(IN_FLIGHT, delta);
        }
    }

    /// Callouts in flight as last counted ([`Counts::in_flight`]).
    pub fn callouts_in_flight(&self) -> u64 {
        u64::try_from(self.in_flight).unwrap_or(0)
    }

    /// The counts to hand to the host, `(slot, delta)` for each slot that
    /// moved since the last call; all are zero afterwards.
    pub fn drain(&mut self) -> impl Iterator<Item = (usize, i64)> + '_ {
        let deltas = &mut self.deltas;
        self.touched.drain(..).filter_map(move |slot| {
            let delta = std::mem::take(deltas.get_mut(slot)?);
            (delta != 0).then_some((slot, delta))
        })
    }
}

#[cfg(test)]
mod tests;
