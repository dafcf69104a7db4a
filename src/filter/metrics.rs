//! The module's metrics at the host: defined once per configuration from
//! the layout ([`crate::metrics::Layout`]), then moved by the counts the
//! worker collected ([`Worker::counts`]), one `increment_metric` each. Also
//! reads the host's log level for the decision log, now and then rather
//! than on every request.

use super::host::log;
use crate::callout::Worker;
use crate::decision_log::Verbosity;
use crate::metrics::{Kind, Layout};
use proxy_wasm::hostcalls;
use proxy_wasm::types::{LogLevel, MetricType};
use std::cell::Cell;

/// How many requests may pass between two reads of the host's log level
/// (ticks read it too): a level switched on at the host shows in the
/// decision log within that many requests.
const LEVEL_EVERY: u32 = 64;

/// Metric ids by slot (`None`: the host refused that one), and when the
/// log level was last read.
#[derive(Default)]
pub struct Metrics {
    ids: Vec<Option<u32>>,
    since_level: Cell<u32>,
}

impl Metrics {
    /// Defines every metric of `layout`. One the host refuses (a name too
    /// long for ngx_wasm_module's limit) is logged and left uncounted.
    pub fn define(layout: &Layout) -> Metrics {
        let mut refused = 0usize;
        let mut first = None;
        let ids = layout
            .metrics()
            .iter()
            .map(|m| {
                let kind = match m.kind {
                    Kind::Counter => MetricType::Counter,
                    Kind::Gauge => MetricType::Gauge,
                };
                let id = hostcalls::define_metric(kind, &m.name).ok();
                if id.is_none() {
                    refused = refused.saturating_add(1);
                    first = first.or(Some(m.name.as_str()));
                }
                id
            })
            .collect();
        if let Some(name) = first {
            let msg = format!(
                "jwt-guard: the host refused {refused} metric(s), they are not counted; first: {name}"
            );
            log(LogLevel::Warn, &msg);
        }
        Metrics {
            ids,
            since_level: Cell::new(0),
        }
    }

    /// Hands the worker's counts to the host.
    pub fn flush(&self, worker: &mut Worker) {
        for (slot, delta) in worker.counts() {
            if let Some(Some(id)) = self.ids.get(slot) {
                let _ = hostcalls::increment_metric(*id, delta);
            }
        }
    }

    /// Before a request: reads the host's log level every
    /// [`LEVEL_EVERY`] requests (`force`: now).
    pub fn refresh_log_level(&self, worker: &mut Worker, force: bool) {
        let n = self.since_level.get();
        if force || n >= LEVEL_EVERY {
            self.since_level.set(0);
            worker.log_decisions(verbosity());
        } else {
            self.since_level.set(n.saturating_add(1));
        }
    }
}

/// The decision log's verbosity at the host's log level; none when the
/// host cannot tell.
fn verbosity() -> Verbosity {
    match hostcalls::get_log_level() {
        Ok(LogLevel::Trace) => Verbosity::All,
        Ok(LogLevel::Debug) => Verbosity::Denied,
        _ => Verbosity::Off,
    }
}
