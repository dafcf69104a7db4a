//! The module's metrics at the host: defined once per configuration from
//! the layout ([`crate::metrics::Layout`]), then moved by the counts the
//! worker collected ([`Worker::counts`]), one `increment_metric` each.

use super::host::log;
use crate::callout::Worker;
use crate::metrics::{Kind, Layout};
use proxy_wasm::types::{LogLevel, MetricType};

/// Metric ids and kinds by slot (`None`: the host refused that one).
#[derive(Default)]
pub struct Metrics {
    ids: Vec<Option<(u32, Kind)>>,
    /// Gauges are set, not moved (ngx_wasm_module traps on moving one; its
    /// gauge is the value a worker set last).
    set_gauges: bool,
    /// Counts are handed over after every callback, not on the root's
    /// tick (a host that refused a tick period).
    pub each_callback: bool,
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
                let id = abi::define(kind, &m.name);
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
        Metrics {
            ids,
            set_gauges,
            each_callback: false,
        }
    }

    /// At the end of a request's or a call's callback: hands the counts
    /// over only where there is no tick to do it.
    pub fn after_callback(&self, worker: &mut Worker) {
        if self.each_callback {
            self.flush(worker);
        }
    }

    /// Hands the worker's counts to the host (on the root's tick).
    pub fn flush(&self, worker: &mut Worker) {
        let mut gauge = None;
        for (slot, delta) in worker.counts() {
            match self.ids.get(slot) {
                Some(Some((id, Kind::Gauge))) if self.set_gauges => gauge = Some(*id),
                Some(Some((id, _))) => {
                    abi::increment(*id, delta);
                }
                _ => {}
            }
        }
        if let Some(id) = gauge {
            abi::record(id, worker.callouts_in_flight());
        }
    }
}

/// The metric calls, straight to the host: the SDK's wrappers panic on a
/// status they do not expect (a host without metrics answers
/// "unimplemented"), and a panic would trap the VM.
#[allow(unsafe_code)]
mod abi {
    use proxy_wasm::types::MetricType;

    #[link(wasm_import_module = "env")]
    extern "C" {
        fn proxy_define_metric(kind: MetricType, name: *const u8, len: usize, id: *mut u32) -> u32;
        fn proxy_increment_metric(id: u32, offset: i64) -> u32;
        fn proxy_record_metric(id: u32, value: u64) -> u32;
    }

    /// The metric's id, or `None` when the host refuses it.
    pub fn define(kind: MetricType, name: &str) -> Option<u32> {
        let mut id = 0u32;
        // SAFETY: the host reads `len` bytes at `name`, which live for the
        // call, and writes one u32 at `id`.
        let status = unsafe { proxy_define_metric(kind, name.as_ptr(), name.len(), &mut id) };
        (status == 0).then_some(id)
    }

    pub fn increment(id: u32, offset: i64) {
        // SAFETY: plain values; any status is fine (a count is not worth
        // failing a request for).
        let _ = unsafe { proxy_increment_metric(id, offset) };
    }

    pub fn record(id: u32, value: u64) {
        // SAFETY: as `increment`.
        let _ = unsafe { proxy_record_metric(id, value) };
    }
}
