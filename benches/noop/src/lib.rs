//! A proxy-wasm HTTP filter that does nothing: every request continues.
//! Benchmarked next to jwt-guard to separate the cost of being a wasm filter
//! at all (host <-> VM call-ins per request) from the cost of our own work.
//!
//! Its plugin configuration can name host calls to make on every request
//! (comma-separated: `headers`, `header`, `time`, `remove`, `reply`), so the
//! benchmark's host-cost probe can price each one on its own. Empty: none.

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, MapType};
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root(Rc::default())) });
}}

#[derive(Default)]
struct Calls {
    headers: bool,
    header: bool,
    time: bool,
    remove: bool,
    reply: bool,
}

struct Root(Rc<Calls>);

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, size: usize) -> bool {
        let text = match hostcalls::get_buffer(BufferType::PluginConfiguration, 0, size) {
            Ok(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
            _ => String::new(),
        };
        let has = |name: &str| text.split(',').any(|c| c.trim() == name);
        self.0 = Rc::new(Calls {
            headers: has("headers"),
            header: has("header"),
            time: has("time"),
            remove: has("remove"),
            reply: has("reply"),
        });
        true
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Noop(self.0.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Noop(Rc<Calls>);

impl Context for Noop {}

impl HttpContext for Noop {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let c = &self.0;
        if c.headers {
            let _ = hostcalls::get_map_bytes(MapType::HttpRequestHeaders);
        }
        if c.header {
            let _ = hostcalls::get_map_value_bytes(MapType::HttpRequestHeaders, "authorization");
        }
        if c.time {
            let _ = hostcalls::get_current_time();
        }
        if c.remove {
            let _ = hostcalls::set_map_value(MapType::HttpRequestHeaders, "x-absent", None);
        }
        if c.reply {
            let _ = hostcalls::send_http_response(401, vec![("www-authenticate", "Bearer")], Some(b"no"));
            return Action::Pause;
        }
        Action::Continue
    }
}
