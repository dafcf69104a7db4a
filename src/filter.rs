//! The proxy-wasm glue: the only code that talks to the host. It reads the
//! plugin configuration once, and per request hands the headers and the
//! time to the core, then applies its decision. Host calls go through
//! `hostcalls` directly so a host error is handled, never unwrapped.
//!
//! A request that needs remote keys not fetched yet pauses; the root context
//! fetches them (`remote`) and, when the fetch ends, evaluates each paused
//! request again on its behalf (`set_effective_context`), so every path ends
//! in exactly one of: resume the request, or send a reply.

mod remote;

use crate::config;
use crate::error::Status;
use crate::request::Headers;
use crate::response;
use crate::rules::{self, Denied, Policy};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType};
use remote::Worker;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Root tick while remote providers exist: how soon a paused request's
/// fetch starts, and how often other workers' keys are picked up.
const TICK: Duration = Duration::from_millis(20);

/// Registers the root context. Exported to the host as `_initialize`.
#[allow(unsafe_code)]
mod entry {
    proxy_wasm::main! {{
        proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
        proxy_wasm::set_root_context(|_| -> Box<dyn proxy_wasm::traits::RootContext> {
            Box::new(super::Root { config: None, worker: std::rc::Rc::default() })
        });
    }}
}

fn log(level: LogLevel, msg: &str) {
    let _ = hostcalls::log(level, msg);
}

/// Holds the compiled configuration (`None` until `on_configure` succeeds)
/// and this worker's mutable state (remote keys, paused requests, token cache).
struct Root {
    config: Option<Rc<Policy>>,
    worker: Rc<RefCell<Worker>>,
}

impl Context for Root {
    fn on_http_call_response(
        &mut self,
        token: u32,
        _headers: usize,
        body: usize,
        _trailers: usize,
    ) {
        let Some(config) = self.config.clone() else {
            return;
        };
        let Ok(mut worker) = self.worker.try_borrow_mut() else {
            return;
        };
        if worker.on_response(token, body) {
            resume_ready(&config, &mut worker);
        }
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, size: usize) -> bool {
        let bytes = match hostcalls::get_buffer(BufferType::PluginConfiguration, 0, size) {
            Ok(Some(b)) => b,
            Ok(None) => Vec::new(),
            Err(e) => {
                log(
                    LogLevel::Error,
                    &format!("jwt-guard: cannot read plugin configuration: {e:?}"),
                );
                return false;
            }
        };
        let text = match std::str::from_utf8(&bytes) {
            Ok(t) => t,
            Err(_) => {
                log(
                    LogLevel::Error,
                    "jwt-guard: config error: configuration is not UTF-8 text",
                );
                return false;
            }
        };
        match config::compile(text) {
            Ok(config::Compiled {
                policy: config,
                warnings,
            }) => {
                log(
                    LogLevel::Info,
                    &format!(
                        "jwt-guard: configured {} provider(s), {} rule(s)",
                        config.providers.len(),
                        config.rules.len()
                    ),
                );
                for w in &warnings {
                    log(LogLevel::Warn, &format!("jwt-guard: config warning: {w}"));
                }
                let worker = Worker::new(&config);
                if worker.needs_ticks() && hostcalls::set_tick_period(TICK).is_err() {
                    log(LogLevel::Error, "jwt-guard: config error: the host refuses a tick period, needed for remote keys");
                    return false;
                }
                self.worker = Rc::new(RefCell::new(worker));
                self.config = Some(Rc::new(config));
                true
            }
            Err(e) => {
                // Returning false makes the host refuse the config: fail closed.
                log(LogLevel::Error, &format!("jwt-guard: config error: {e}"));
                false
            }
        }
    }

    fn on_tick(&mut self) {
        let Some(config) = self.config.clone() else {
            return;
        };
        let Ok(mut worker) = self.worker.try_borrow_mut() else {
            return;
        };
        worker.tick();
        resume_ready(&config, &mut worker);
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Request {
            context_id,
            config: self.config.clone(),
            worker: self.worker.clone(),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// Evaluates again every paused request whose keys have arrived or failed.
fn resume_ready(config: &Policy, worker: &mut Worker) {
    for (context_id, since) in worker.ready_waiters() {
        // The request may be gone (client hung up): nothing to do then.
        if hostcalls::set_effective_context(context_id).is_err() {
            continue;
        }
        match process(config, worker, &since) {
            Step::Continue => {
                if let Err(e) = hostcalls::resume_http_request() {
                    log(
                        LogLevel::Warn,
                        &format!("jwt-guard: cannot resume a request: {e:?}"),
                    );
                }
            }
            Step::Replied => {}
            Step::Wait(providers) => worker.wait(context_id, &providers),
        }
    }
}

struct Request {
    context_id: u32,
    config: Option<Rc<Policy>>,
    worker: Rc<RefCell<Worker>>,
}

impl Context for Request {}

/// The host's clock, asked at most once per evaluation and only if a token
/// needs it (`authn::Clock`).
#[derive(Default)]
struct HostClock(std::cell::Cell<Option<u64>>);

impl crate::authn::Clock for HostClock {
    fn now(&self) -> u64 {
        *self.0.get().get_or_insert_with(now_seconds)
    }
}

fn now_seconds() -> u64 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

fn deny(status: u32, headers: Vec<(&str, &str)>, body: &str) {
    if let Err(e) = hostcalls::send_http_response(status, headers, Some(body.as_bytes())) {
        log(
            LogLevel::Error,
            &format!("jwt-guard: cannot send local reply: {e:?}"),
        );
    }
}

/// How one evaluation of the current request ended.
enum Step {
    /// Allowed; header changes applied.
    Continue,
    /// Denied; the local reply is sent.
    Replied,
    /// Needs these remote providers' keys first.
    Wait(Vec<usize>),
}

/// Evaluates the current (effective) request: reads its headers, decides,
/// and applies the decision. `since`: for a resumed request, when it began
/// waiting (see `remote::View`).
fn process(config: &Policy, worker: &mut Worker, since: &[(usize, u64)]) -> Step {
    let pairs = match hostcalls::get_map_bytes(MapType::HttpRequestHeaders) {
        Ok(p) => p,
        Err(e) => {
            log(
                LogLevel::Error,
                &format!("jwt-guard: cannot read request headers: {e:?}"),
            );
            deny(500, vec![], "jwt-guard cannot read the request");
            return Step::Replied;
        }
    };
    let entries = pairs
        .into_iter()
        .map(|(k, v)| {
            let v = String::from_utf8(v)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            (k, v)
        })
        .collect();
    let mut headers = Headers::new(entries);
    let realm = response::realm(&headers);
    let view = worker.view(since);
    let result = rules::evaluate(config, &mut headers, HostClock::default(), &view);
    let pending = view.pending();
    match result {
        Ok(()) => {
            if let Some(name) = headers.unforwardable() {
                deny(503, vec![], &format!("invalid header value for: {name}"));
                return Step::Replied;
            }
            for (name, values) in headers.changes() {
                let map = MapType::HttpRequestHeaders;
                let mut values = values.iter();
                let first = values.next().map(String::as_str);
                let mut ok = hostcalls::set_map_value(map, &name, first).is_ok();
                for v in values {
                    ok &= hostcalls::add_map_value(map, &name, v).is_ok();
                }
                if !ok {
                    log(
                        LogLevel::Error,
                        &format!("jwt-guard: cannot update header {name}"),
                    );
                    deny(500, vec![], "jwt-guard cannot update the request");
                    return Step::Replied;
                }
            }
            Step::Continue
        }
        Err(Denied::Authn(Status::JwksPending)) if !pending.is_empty() => Step::Wait(pending),
        Err(denied) => {
            // A pending status without a provider to wait for cannot happen;
            // answered as a failed fetch rather than waited on forever.
            let denied = match denied {
                Denied::Authn(Status::JwksPending) => Denied::Authn(Status::JwksFetchFail),
                other => other,
            };
            let d = response::denial(&denied, &realm, config.problem_details);
            let mut headers = Vec::new();
            if let Some(w) = &d.www_authenticate {
                headers.push(("www-authenticate", w.as_str()));
            }
            if let Some(ct) = d.content_type {
                headers.push(("content-type", ct));
            }
            deny(d.status, headers, &d.body);
            Step::Replied
        }
    }
}

impl HttpContext for Request {
    fn on_http_request_headers(&mut self, _num_headers: usize, _eos: bool) -> Action {
        let Some(config) = self.config.clone() else {
            // Unconfigured: nothing may pass.
            deny(500, vec![], "jwt-guard is not configured");
            return Action::Pause;
        };
        // Only re-entry from the host during a root callback could find it
        // borrowed; refuse the request then rather than trap the VM.
        let Ok(mut worker) = self.worker.try_borrow_mut() else {
            deny(503, vec![], "jwt-guard is busy");
            return Action::Pause;
        };
        match process(&config, &mut worker, &[]) {
            Step::Continue => Action::Continue,
            Step::Replied => Action::Pause,
            Step::Wait(providers) => {
                worker.wait(self.context_id, &providers);
                Action::Pause
            }
        }
    }
}
