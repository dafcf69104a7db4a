//! The proxy-wasm glue: the only code that talks to the host. It reads the
//! plugin configuration once, and per request hands the headers and the
//! time to the core, then applies its decision. Host calls go through
//! `hostcalls` directly so a host error is handled, never unwrapped.

use crate::config::Config;
use crate::request::Headers;
use crate::response;
use crate::rules;
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType};
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Registers the root context. Exported to the host as `_initialize`.
#[allow(unsafe_code)]
mod entry {
    proxy_wasm::main! {{
        proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
        proxy_wasm::set_root_context(|_| -> Box<dyn proxy_wasm::traits::RootContext> {
            Box::new(super::Root { config: None })
        });
    }}
}

fn log(level: LogLevel, msg: &str) {
    let _ = hostcalls::log(level, msg);
}

/// Holds the compiled configuration; `None` until `on_configure` succeeds.
struct Root {
    config: Option<Rc<Config>>,
}

impl Context for Root {}

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
        match Config::from_json(text) {
            Ok(config) => {
                log(
                    LogLevel::Info,
                    &format!(
                        "jwt-guard: configured {} provider(s), {} rule(s)",
                        config.providers.len(),
                        config.rules.len()
                    ),
                );
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

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Request {
            config: self.config.clone(),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Request {
    config: Option<Rc<Config>>,
}

impl Context for Request {}

fn now_seconds() -> u64 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

fn deny(status: u32, headers: Vec<(&str, &str)>, body: &str) -> Action {
    if let Err(e) = hostcalls::send_http_response(status, headers, Some(body.as_bytes())) {
        log(
            LogLevel::Error,
            &format!("jwt-guard: cannot send local reply: {e:?}"),
        );
    }
    Action::Pause
}

impl HttpContext for Request {
    fn on_http_request_headers(&mut self, _num_headers: usize, _eos: bool) -> Action {
        let Some(config) = self.config.clone() else {
            // Unconfigured: nothing may pass.
            return deny(500, vec![], "jwt-guard is not configured");
        };
        let pairs = match hostcalls::get_map_bytes(MapType::HttpRequestHeaders) {
            Ok(p) => p,
            Err(e) => {
                log(
                    LogLevel::Error,
                    &format!("jwt-guard: cannot read request headers: {e:?}"),
                );
                return deny(500, vec![], "jwt-guard cannot read the request");
            }
        };
        let entries = pairs
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
            .collect();
        let mut headers = Headers::new(entries);
        let realm = response::realm(&headers);
        match rules::evaluate(&config, &mut headers, now_seconds()) {
            Ok(()) => {
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
                        return deny(500, vec![], "jwt-guard cannot update the request");
                    }
                }
                Action::Continue
            }
            Err(denied) => {
                let d = response::denial(&denied, &realm, config.problem_details);
                let mut headers = vec![("www-authenticate", d.www_authenticate.as_str())];
                if let Some(ct) = d.content_type {
                    headers.push(("content-type", ct));
                }
                deny(d.status, headers, &d.body)
            }
        }
    }
}
