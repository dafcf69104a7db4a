//! The proxy-wasm glue: the only code that talks to the host. It compiles
//! the plugin configuration once, and per request hands the headers and the
//! clock to the core, then applies its decision: let the request through
//! with its header changes, answer it (`response::reply`, the one way to
//! the wire), or park it in the callout worker until a callout ends. Host
//! calls go through `hostcalls` directly so a host error is handled, never
//! unwrapped.
//!
//! A request that must wait is woken one of two ways, as the host allows
//! ([`host::Traits`]): parked in the worker and evaluated again from the
//! root context when the worker says it is ready (`set_effective_context`,
//! Envoy), or, where that switch does nothing (ngx_wasm_module), on calls
//! of its own whose answers come back to its own context. Every path ends
//! in exactly one of: resume the request, or send a reply.

mod host;
mod metrics;

use crate::authn::Callout;
use crate::callout::Worker;
use crate::config;
use crate::decision_log::Verbosity;
use crate::error::Fault;
use crate::metrics::Layout;
use crate::request::Headers;
use crate::request::Writes;
use crate::response;
use crate::rules::{self, Decision, Denial, Policy};
use host::{log, HostClock, ProxyHost, Traits};
use metrics::Metrics;
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// Root tick while remote providers exist: how soon a paused request's
/// fetch starts, and how often other workers' keys are picked up.
const TICK: Duration = Duration::from_millis(20);

/// Root tick otherwise: how often the counts reach the host's metrics.
/// Handing them over on the tick, not per request, keeps a request's cost
/// at a few additions in memory (a host call costs about a microsecond).
const METRICS_TICK: Duration = Duration::from_secs(1);

/// Registers the root context. Exported to the host as `_initialize`.
#[allow(unsafe_code)]
mod entry {
    proxy_wasm::main! {{
        proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
        proxy_wasm::set_root_context(|_| -> Box<dyn proxy_wasm::traits::RootContext> {
            Box::new(super::Root {
                policy: None,
                worker: std::rc::Rc::default(),
                metrics: std::rc::Rc::default(),
                traits: super::Traits::ENVOY,
            })
        });
    }}
}

/// Holds the compiled policy (`None` until `on_configure` succeeds), this
/// worker's mutable state (remote keys, paused requests, token cache) and
/// the metric ids.
struct Root {
    policy: Option<Rc<Policy>>,
    worker: Rc<RefCell<Worker>>,
    metrics: Rc<Metrics>,
    traits: Traits,
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
        if worker.on_response(&mut ProxyHost, token, host::answer(body), None) {
            resume_ready(&policy, &mut worker, self.traits, None);
        }
        self.metrics.after_callback(&mut worker);
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
        // Refusing the config makes the host refuse it: fail closed. Every
        // error found is logged, the first first, so one rollout shows them.
        let compiled = match config::compile_all(text) {
            Ok(c) => c,
            Err(errors) => {
                for e in errors {
                    log(LogLevel::Error, &format!("jwt-guard: config error: {e}"));
                }
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
        self.traits = Traits::probe();
        if !self.traits.switches_context {
            let msg = "jwt-guard: this host cannot act on a request from the root \
                context (ngx_wasm_module): a request that waits for keys fetches them \
                itself, and removed headers are blanked";
            log(LogLevel::Info, msg);
        }
        let mut worker = Worker::new(&policy.providers, policy.token_cache_entries);
        // Defined once here: a request only adds to them.
        let layout = Layout::new(&policy.stat_prefix, &policy.providers);
        let metrics = Metrics::define(&layout, !self.traits.switches_context);
        worker.count_into(layout);
        // Denials are logged at debug, and the host drops them below its
        // level: the level itself cannot be asked for everywhere
        // (ngx_wasm_module's `proxy_get_log_level` has another signature,
        // and a module importing it does not load there).
        worker.log_decisions(Verbosity::Denied);
        let period = if worker.needs_ticks() {
            TICK
        } else {
            METRICS_TICK
        };
        let ticking = hostcalls::set_tick_period(period).is_ok();
        if worker.needs_ticks() && !ticking {
            let msg =
                "jwt-guard: config error: the host refuses a tick period, needed for remote keys";
            log(LogLevel::Error, msg);
            return false;
        }
        // Without a tick, counts are handed over after every callback.
        let mut metrics = metrics;
        metrics.each_callback = !ticking;
        self.worker = Rc::new(RefCell::new(worker));
        self.metrics = Rc::new(metrics);
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
        resume_ready(&policy, &mut worker, self.traits, None);
        self.metrics.flush(&mut worker);
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Request {
            context_id,
            policy: self.policy.clone(),
            worker: self.worker.clone(),
            metrics: self.metrics.clone(),
            traits: self.traits,
            done: Vec::new(),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// Evaluates again every paused request whose callouts ended (or whose
/// budget ran out), acting on each in its own context. `active`: the
/// request whose callback runs (`None`: the root's), which receives the
/// answers of calls made meanwhile.
fn resume_ready(policy: &Policy, worker: &mut Worker, traits: Traits, active: Option<u32>) {
    // No clock: every parked request is taken out, and refused when its
    // evaluation fails to read the clock too, rather than left hanging.
    let now = host::now_ms().unwrap_or(u64::MAX);
    for r in worker.ready(now) {
        // The request may be gone (client hung up): nothing to do then.
        if hostcalls::set_effective_context(r.context_id).is_err() {
            continue;
        }
        let mut done = r.done;
        let action = process(policy, worker, traits, r.context_id, &mut done, active);
        resume_if(action);
    }
}

struct Request {
    context_id: u32,
    policy: Option<Rc<Policy>>,
    worker: Rc<RefCell<Worker>>,
    metrics: Rc<Metrics>,
    traits: Traits,
    /// Callouts this request waited for on calls of its own.
    done: Vec<Callout>,
}

impl Context for Request {
    /// For calls made from this request's context. Where the root acts on
    /// requests (Envoy), an introspection this request started: every
    /// request it settles is resumed. Otherwise a call of its own
    /// ([`Worker::wait_own`]): the request is evaluated again once the last
    /// one ended. The host keeps it paused while one is in flight, and lets
    /// it go on (ngx_wasm_module) when the last ends without a reply: so it
    /// is resumed or answered here.
    fn on_http_call_response(
        &mut self,
        token: u32,
        _headers: usize,
        body: usize,
        _trailers: usize,
    ) {
        let Some(policy) = self.policy.clone() else {
            refuse(&Denial::Fault(Fault::NotConfigured), "", false);
            return;
        };
        let Ok(mut worker) = self.worker.try_borrow_mut() else {
            refuse(&Denial::Fault(Fault::Busy), "", false);
            return;
        };
        let ctx = self.context_id;
        worker.on_response(&mut ProxyHost, token, host::answer(body), Some(ctx));
        if self.traits.switches_context {
            resume_ready(&policy, &mut worker, self.traits, Some(ctx));
        } else if worker.own_calls(ctx) == 0 {
            let done = &mut self.done;
            resume_if(process(
                &policy,
                &mut worker,
                self.traits,
                ctx,
                done,
                Some(ctx),
            ));
        }
        self.metrics.after_callback(&mut worker);
    }

    fn on_done(&mut self) -> bool {
        if let Ok(mut worker) = self.worker.try_borrow_mut() {
            worker.forget(self.context_id);
            self.metrics.after_callback(&mut worker);
        }
        true
    }
}

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
        let ctx = self.context_id;
        let done = &mut self.done;
        let action = process(&policy, &mut worker, self.traits, ctx, done, Some(ctx));
        self.metrics.after_callback(&mut worker);
        action
    }
}

/// Lets a paused request go on if its new evaluation says so (a reply, or
/// another wait, keeps it paused).
fn resume_if(action: Action) {
    if action == Action::Continue {
        if let Err(e) = hostcalls::resume_http_request() {
            let msg = format!("jwt-guard: cannot resume a request: {e:?}");
            log(LogLevel::Warn, &msg);
        }
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
    if let Some(n) = &r.dpop_nonce {
        headers.push(("dpop-nonce", n.as_str()));
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
/// `done`: callouts the request already waited for (it is not held for
/// them again); grows when it waits on calls of its own. `active`: whose
/// callback runs ([`resume_ready`]).
fn process(
    policy: &Policy,
    worker: &mut Worker,
    traits: Traits,
    context_id: u32,
    done: &mut Vec<Callout>,
    active: Option<u32>,
) -> Action {
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
    let clock = HostClock::default();
    let decision = {
        let mut host = ProxyHost;
        let view = worker.view(done, &mut host);
        rules::evaluate(policy, &mut headers, &clock, &view)
    };
    match decision {
        Decision::Allow => apply(&headers, traits.writes),
        Decision::Deny(denial) => {
            if let Denial::Fault(Fault::NoClock) = denial {
                log(LogLevel::Error, "jwt-guard: neither the host's nor WASI's clock can be read: refusing the request");
            }
            refuse(&denial, &response::realm(&headers), policy.problem_details)
        }
        Decision::Wait(callouts) => {
            // Waiting comes after a clock read: a token reached its keys.
            let Some(now) = crate::authn::Clock::now_ms(&clock) else {
                return refuse(
                    &Denial::Fault(Fault::NoClock),
                    &response::realm(&headers),
                    false,
                );
            };
            if traits.switches_context {
                let done = done.clone();
                worker.wait(&mut ProxyHost, context_id, &callouts, done, active, now);
                return Action::Pause;
            }
            let calls = worker.wait_own(&mut ProxyHost, context_id, &callouts, now);
            done.extend(callouts);
            if calls > 0 {
                return Action::Pause;
            }
            // Nothing to wait on after all: decide now. Each round adds to
            // `done`, which evaluation never waits on again, so this ends.
            process(policy, worker, traits, context_id, done, active)
        }
    }
}

/// Writes the header changes of an allowed request back to the host, in
/// the form the host's way of writing needs (`Headers::updates`).
fn apply(headers: &Headers, writes: Writes) -> Action {
    let updates = match headers.updates(writes) {
        Ok(u) => u,
        Err(name) => {
            let fault = Fault::RepeatedHeader(name.to_owned());
            return refuse(&Denial::Fault(fault), "", false);
        }
    };
    for (name, values) in updates {
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
