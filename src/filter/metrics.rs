//! The module's metrics at the host: defined once per configuration from
//! the layout ([`crate::metrics::Layout`]), then moved by the counts the
//! worker collected ([`Worker::counts`]), one `increment_metric` each.

use super::host::log;
use crate::callout::Worker;
use crate::metrics::{Kind, Layout};
use proxy_wasm::hostcalls;
use proxy_wasm::types::{LogLevel, MetricType};

/// Metric ids and kinds by slot (`None`: the host refused that one).
#[derive(Default)]
pub struct Metrics {
    ids: Vec<Option<(u32, Kind)>>,
    /// Gauges are set, not moved (ngx_wasm_module traps on moving one; its
    /// gauge is the value a worker set last).
    set_gauges: bool,
}

impl Metrics {
    /// Defines every metric of `layout`. One the host refuses (a name too
    /// long for ngx_wasm_module's limit) is logged and left uncounted.
    pub fn define(layout: &Layout, set_gauges: bool) -> Metrics {
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
                let id = id.map(|id| (id, m.kind));
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
        Metrics { ids, set_gauges }
    }

    /// Hands the worker's counts to the host.
    pub fn flush(&self, worker: &mut Worker) {
        let mut gauge = None;
        for (slot, delta) in worker.counts() {
            match self.ids.get(slot) {
                Some(Some((id, Kind::Gauge))) if self.set_gauges => gauge = Some(*id),
                Some(Some((id, _))) => {
                    let _ = hostcalls::increment_metric(*id, delta);
                }
                _ => {}
            }
        }
        if let Some(id) = gauge {
            let _ = hostcalls::record_metric(id, worker.callouts_in_flight());
        }
    }
}
