//! proxy-wasm as the callout worker's [`Host`], the request's clock, and a
//! call's answer read from the host.

use crate::callout::{Answer, Call, Host, Level, Shared, MAX_BODY};
use crate::request::Writes;
use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, LogLevel, MapType};
use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the host does that the module must adapt to, probed once at
/// configure time.
#[derive(Clone, Copy, Debug)]
pub struct Traits {
    /// The root context may act on a paused request after
    /// `set_effective_context` (Envoy). ngx_wasm_module accepts any context
    /// id there and ignores it: acting on a request from the root reads a
    /// NULL request and kills the nginx worker. There a request is only
    /// acted on from its own callbacks.
    pub switches_context: bool,
    /// How header changes reach the upstream.
    pub writes: Writes,
}

impl Traits {
    /// Envoy (and Istio): both work.
    pub const ENVOY: Traits = Traits {
        switches_context: true,
        writes: Writes::Exact,
    };

    /// Switching to a context that does not exist: Envoy refuses it (and
    /// switches nothing); ngx_wasm_module, whose switch is a no-op, says yes.
    /// It is also the one host known to forward removed headers, so the
    /// same answer tells both.
    pub fn probe() -> Traits {
        if hostcalls::set_effective_context(u32::MAX).is_err() {
            return Traits::ENVOY;
        }
        Traits {
            switches_context: false,
            writes: Writes::Nginx,
        }
    }
}

pub fn log(level: LogLevel, msg: &str) {
    let _ = hostcalls::log(level, msg);
}

/// The time from the host, else from WASI; `None` if both fail (the
/// request is then refused, never decided at a guessed time).
pub fn now_ms() -> Option<u64> {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).ok())
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The host's clock, asked at most once per evaluation and only if a token
/// needs it (`authn::Clock`).
#[derive(Default)]
pub struct HostClock(Cell<Option<Option<u64>>>);

impl crate::authn::Clock for HostClock {
    fn now_ms(&self) -> Option<u64> {
        *self.0.get().get_or_insert_with(now_ms)
    }
}

/// The worker's host: whatever context is current.
pub struct ProxyHost;

impl Host for ProxyHost {
    fn now_ms(&self) -> Option<u64> {
        now_ms()
    }

    fn dispatch(&mut self, call: &Call<'_>) -> Result<u32, String> {
        let mut headers = vec![
            (":method", call.method),
            (":path", call.target.path.as_str()),
            (":authority", call.target.authority.as_str()),
            (":scheme", call.target.scheme.as_str()),
        ];
        headers.extend(call.headers.iter().copied());
        let timeout = Duration::from_millis(call.timeout_ms);
        hostcalls::dispatch_http_call(call.cluster, headers, call.body, vec![], timeout)
            .map_err(|e| format!("{e:?}"))
    }

    fn shared_get(&self, key: &str) -> Option<Shared> {
        hostcalls::get_shared_data(key).ok()
    }

    fn shared_set(&mut self, key: &str, value: &[u8], cas: Option<u32>) -> bool {
        hostcalls::set_shared_data(key, Some(value), cas).is_ok()
    }

    fn log(&self, level: Level, message: &str) {
        let level = match level {
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        log(level, message);
    }
}

/// The answer to the call whose response is being delivered.
pub fn answer(body_size: usize) -> Answer {
    let status = hostcalls::get_map_value(MapType::HttpCallResponseHeaders, ":status")
        .ok()
        .flatten();
    // Kong reports dispatch failures with no headers at all.
    let Some(status) = status else {
        return Answer::NoAnswer("no response (connection or timeout failure)".to_owned());
    };
    let Ok(status) = status.parse::<u16>() else {
        return Answer::NoAnswer(format!("HTTP status {status}"));
    };
    if body_size > MAX_BODY {
        return Answer::TooLarge(body_size);
    }
    match hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size) {
        Ok(body) => Answer::Http {
            status,
            body: body.unwrap_or_default(),
        },
        Err(e) => Answer::NoAnswer(format!("cannot read the body: {e:?}")),
    }
}
