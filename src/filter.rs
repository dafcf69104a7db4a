//! The proxy-wasm glue: the only code that talks to the host. It compiles
//! the plugin configuration once, and per request hands the headers and the
//! clock to the core, then applies its decision: let the request through
//! with its header changes, answer it (`response::reply`, the one way to
//! the wire), or park it in the callout worker until a callout ends. Host
//! calls go through `hostcalls` directly so a host error is handled, never
//! unwrapped.
//!
//! Parked requests are evaluated again from the root context when the
//! worker says they are ready (`set_effective_context`), so every path ends
//! in exactly one of: resume the request, or send a reply.

mod host;

use crate::authn::Callout;
use crate::callout::Worker;
use crate::config;
use crate::error::Fault;
use crate::request::Headers;
use crate::response;
use crate::rules::{self, Decision, Denial, Policy};
use host::{log, HostClock, ProxyHost};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// Root tick while remote providers exist: how soon a paused request's
/// fetch starts, and how often other workers' keys are picked up.
const TICK: Duration = Duration::from_millis(20);

/// Registers the root context. Exported to the host as `_initialize`.
#[allow(unsafe_code)]
mod entry {
    proxy_wasm::main! {{
        proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
        proxy_wasm::set_root_context(|_| -> Box<dyn proxy_wasm::traits::RootContext> {
            Box::new(super::Root { policy: None, worker: std::rc::Rc::default() })
        });
    }}
}

/// Holds the compiled policy (`None` until `on_configure` succeeds) and this
/// worker's mutable state (remote keys, paused requests, token cache).
struct Root {
    policy: Option<Rc<Policy>>,
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
        let Some(policy) = self.policy.clone() else {
            return;
        };
        let Ok(mut worker) = self.worker.try_borrow_mut() else {
            return;
        };
        if worker.on_response(&mut ProxyHost, token, host::answer(body)) {
            resume_ready(&policy, &mut worker);
        }
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, size: usize) -> bool {
        let bytes = match hostcalls::get_buffer(BufferType::PluginConfiguration, 0, size) {
            Ok(b) => b.unwrap_or_default(),
            Err(e) => {
                let msg = format!("jwt-guard: cannot read plugin configuration: {e:?}");
                log(LogLevel::Error, &msg);
                return false;
            }
        };
        let Ok(text) = std::str::from_utf8(&bytes) else {
            let msg = "jwt-guard: config error: configuration is not UTF-8 text";
            log(LogLevel::Error, msg);
            return false;
        };
        // Refusing the config makes the host refuse it: fail closed.
        let compiled = match config::compile(text) {
            Ok(c) => c,
            Err(e) => {
                log(LogLevel::Error, &format!("jwt-guard: config error: {e}"));
                return false;
            }
        };
        let policy = compiled.policy;
        let msg = format!(
            "jwt-guard: configured {} provider(s), {} rule(s)",
            policy.providers.len(),
            policy.rules.len()
        );
        log(LogLevel::Info, &msg);
        for w in &compiled.warnings {
            log(LogLevel::Warn, &format!("jwt-guard: config warning: {w}"));
        }
        let worker = Worker::new(&policy.providers, policy.token_cache_entries);
        if worker.needs_ticks() && hostcalls::set_tick_period(TICK).is_err() {
            let msg =
                "jwt-guard: config error: the host refuses a tick period, needed for remote keys";
            log(LogLevel::Error, msg);
            return false;
        }
        self.worker = Rc::new(RefCell::new(worker));
        self.policy = Some(Rc::new(policy));
        true
    }

    fn on_tick(&mut self) {
        let Some(policy) = self.policy.clone() else {
            return;
        };
        let Ok(mut worker) = self.worker.try_borrow_mut() else {
            return;
        };
        worker.tick(&mut ProxyHost);
        resume_ready(&policy, &mut worker);
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Request {
            context_id,
            policy: self.policy.clone(),
            worker: self.worker.clone(),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// Evaluates again every paused request whose callouts ended (or whose
/// budget ran out), acting on each in its own context.
fn resume_ready(policy: &Policy, worker: &mut Worker) {
    // No clock: every parked request is taken out, and refused when its
    // evaluation fails to read the clock too, rather than left hanging.
    let now = host::now_ms().unwrap_or(u64::MAX);
    for r in worker.ready(now) {
        // The request may be gone (client hung up): nothing to do then.
        if hostcalls::set_effective_context(r.context_id).is_err() {
            continue;
        }
        if process(policy, worker, r.context_id, &r.done) == Action::Continue {
            if let Err(e) = hostcalls::resume_http_request() {
                let msg = format!("jwt-guard: cannot resume a request: {e:?}");
                log(LogLevel::Warn, &msg);
            }
        }
    }
}

struct Request {
    context_id: u32,
    policy: Option<Rc<Policy>>,
    worker: Rc<RefCell<Worker>>,
}

impl Context for Request {}

impl HttpContext for Request {
    fn on_http_request_headers(&mut self, _num_headers: usize, _eos: bool) -> Action {
        let Some(policy) = self.policy.clone() else {
            // Unconfigured: nothing may pass.
            return refuse(&Denial::Fault(Fault::NotConfigured), "", false);
        };
        // Only re-entry from the host during a root callback could find it
        // borrowed; refuse the request then rather than trap the VM.
        let Ok(mut worker) = self.worker.try_borrow_mut() else {
            return refuse(&Denial::Fault(Fault::Busy), "", false);
        };
        process(&policy, &mut worker, self.context_id, &[])
    }
}

/// Sends the reply for `denial`; the request stays paused for good.
fn refuse(denial: &Denial<'_>, realm: &str, problem_details: bool) -> Action {
    let r = response::reply(denial, realm, problem_details);
    let mut headers = Vec::new();
    if let Some(w) = &r.www_authenticate {
        headers.push(("www-authenticate", w.as_str()));
    }
    if let Some(ct) = r.content_type {
        headers.push(("content-type", ct));
    }
    if let Err(e) = hostcalls::send_http_response(r.status, headers, Some(r.body.as_bytes())) {
        log(
            LogLevel::Error,
            &format!("jwt-guard: cannot send local reply: {e:?}"),
        );
    }
    Action::Pause
}

/// Evaluates the current (effective) request and applies the decision.
/// `done`: callouts a resumed request already waited for.
fn process(policy: &Policy, worker: &mut Worker, context_id: u32, done: &[Callout]) -> Action {
    let pairs = match hostcalls::get_map_bytes(MapType::HttpRequestHeaders) {
        Ok(p) => p,
        Err(e) => {
            log(
                LogLevel::Error,
                &format!("jwt-guard: cannot read request headers: {e:?}"),
            );
            return refuse(&Denial::Fault(Fault::HeadersUnreadable), "", false);
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
    let clock = HostClock::default();
    let decision = {
        let view = worker.view(done);
        rules::evaluate(policy, &mut headers, &clock, &view)
    };
    match decision {
        Decision::Allow => apply(&headers),
        Decision::Deny(denial) => {
            if let Denial::Fault(Fault::NoClock) = denial {
                log(LogLevel::Error, "jwt-guard: neither the host's nor WASI's clock can be read: refusing the request");
            }
            refuse(&denial, &realm, policy.problem_details)
        }
        Decision::Wait(callouts) => {
            // Waiting comes after a clock read: a token reached its keys.
            let Some(now) = crate::authn::Clock::now_ms(&clock) else {
                return refuse(&Denial::Fault(Fault::NoClock), &realm, false);
            };
            worker.wait(context_id, &callouts, done.to_vec(), now);
            Action::Pause
        }
    }
}

/// Writes the header changes of an allowed request back to the host.
fn apply(headers: &Headers) -> Action {
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
            return refuse(&Denial::Fault(Fault::HeadersNotUpdated), "", false);
        }
    }
    Action::Continue
}
