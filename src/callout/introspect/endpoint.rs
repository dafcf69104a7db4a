//! An introspection endpoint named by the provider's discovery document
//! (`introspection_endpoint`, RFC 8414 §2): asked for once per process,
//! shared with the other workers, and the calls waiting on it made once it
//! is known (or ended, when it cannot be).

use super::{Discovering, Ended, Introspect, OwnCall, State, GRACE_MS};
use crate::callout::{Answer, Call, Host, MAX_BODY};
use crate::discovery::{self, parse_uri};
use crate::introspection::settings::Endpoint;

const ACCEPT_JSON: &[(&str, &str)] = &[("accept", "application/json")];

impl Introspect {
    /// The endpoint as log lines name it (never a secret).
    pub(super) fn uri(&self) -> String {
        match (&self.endpoint, &self.settings.endpoint) {
            (Some(t), _) | (None, Endpoint::Fixed(t)) => {
                format!("{}://{}{}", t.scheme, t.authority, t.path)
            }
            (None, Endpoint::Discovered { document, .. }) => format!(
                "the introspection_endpoint of {}://{}{}",
                document.scheme, document.authority, document.path
            ),
        }
    }

    fn shared_name(&self) -> String {
        format!("{}endpoint", self.settings.shared_prefix)
    }

    /// Takes the endpoint another worker discovered, if any.
    pub(super) fn endpoint_from_shared(&mut self, host: &dyn Host) {
        let Some((Some(value), _)) = host.shared_get(&self.shared_name()) else {
            return;
        };
        let uri = std::str::from_utf8(&value).unwrap_or_default();
        self.endpoint = parse_uri(uri).ok();
    }

    /// Sends the call for the discovery document; why not, when it cannot.
    pub(super) fn fetch_document(&mut self, host: &mut dyn Host) -> Result<u32, String> {
        let Endpoint::Discovered { document, .. } = &self.settings.endpoint else {
            return Err("no discovery document to read the endpoint from".to_owned());
        };
        let call = Call {
            cluster: &self.settings.cluster,
            method: "GET",
            target: document,
            headers: ACCEPT_JSON,
            body: None,
            timeout_ms: self.settings.timeout_ms,
        };
        host.dispatch(&call)
            .map_err(|e| format!("cannot dispatch to \"{}\": {e}", self.settings.cluster))
    }

    /// The endpoint the document names, or why it names none.
    fn read_document(&mut self, host: &mut dyn Host, answer: Answer) -> Result<(), String> {
        let Endpoint::Discovered { issuer, .. } = &self.settings.endpoint else {
            return Err("no discovery document was asked for".to_owned());
        };
        let target = match answer {
            Answer::Http { status: 200, body } => {
                discovery::introspection_endpoint(&body, issuer).map_err(|e| e.to_string())?
            }
            Answer::Http { status, .. } => return Err(format!("HTTP status {status}")),
            Answer::TooLarge(size) => {
                return Err(format!("answer of {size} bytes exceeds {MAX_BODY}"))
            }
            Answer::NoAnswer(why) => return Err(why),
        };
        let uri = format!("{}://{}{}", target.scheme, target.authority, target.path);
        host.shared_set(&self.shared_name(), uri.as_bytes(), None);
        self.endpoint = Some(target);
        Ok(())
    }

    /// The document answered (root mode): every flight waiting on it calls
    /// now, from `context`, or ends.
    pub(super) fn on_document(
        &mut self,
        host: &mut dyn Host,
        answer: Answer,
        context: Option<u32>,
        now: u64,
    ) {
        let waiting: Vec<([u8; 32], String)> = self
            .flights
            .iter()
            .filter(|f| f.state == State::AwaitingEndpoint)
            .map(|f| (f.key, f.token.clone()))
            .collect();
        if let Err(why) = self.read_document(host, answer) {
            let why = format!("discovery failed: {why}");
            for (key, _) in waiting {
                self.settle(host, &key, Ended::Unavailable, now, &why);
            }
            return;
        }
        for (key, token) in waiting {
            if let Some(state) = self.ask(host, &key, &token, context, now) {
                self.set_state(&key, state);
            }
        }
    }

    /// A request's own document call answered (Kong): its own call follows.
    pub(super) fn on_own_document(
        &mut self,
        host: &mut dyn Host,
        answer: Answer,
        context_id: u32,
        key: [u8; 32],
        token: &str,
        now: u64,
    ) {
        if let Err(why) = self.read_document(host, answer) {
            let why = format!("discovery failed: {why}");
            return self.settle(host, &key, Ended::Unavailable, now, &why);
        }
        if let Some(call) = self.post(host, &key, token, now) {
            self.own.push(OwnCall {
                call,
                context_id,
                key,
                then: None,
            });
        }
    }

    /// Flights waiting on a document call that was lost, or whose context
    /// left: asked for again from the root, or ended when it went silent.
    pub(super) fn tick_discovery(&mut self, host: &mut dyn Host, now: u64) {
        let lost = self.settings.timeout_ms.saturating_add(GRACE_MS);
        if let Some(d) = self.discovering {
            if now.saturating_sub(d.since) <= lost {
                return;
            }
            self.discovering = None;
            let why = "discovery failed: no answer (the call was lost)";
            let waiting: Vec<[u8; 32]> = self
                .flights
                .iter()
                .filter(|f| f.state == State::AwaitingEndpoint)
                .map(|f| f.key)
                .collect();
            for key in waiting {
                self.settle(host, &key, Ended::Unavailable, now, why);
            }
            return;
        }
        let Some(first) = self
            .flights
            .iter()
            .find(|f| f.state == State::AwaitingEndpoint)
            .map(|f| f.key)
        else {
            return;
        };
        if self.endpoint.is_none() {
            self.endpoint_from_shared(host);
        }
        if self.endpoint.is_some() {
            return self.on_known(host, now);
        }
        match self.fetch_document(host) {
            Ok(call) => {
                self.discovering = Some(Discovering {
                    call,
                    context: None,
                    since: now,
                })
            }
            Err(why) => self.settle(host, &first, Ended::Unavailable, now, &why),
        }
    }

    /// The endpoint became known (another worker's): the waiting flights call.
    fn on_known(&mut self, host: &mut dyn Host, now: u64) {
        let waiting: Vec<([u8; 32], String)> = self
            .flights
            .iter()
            .filter(|f| f.state == State::AwaitingEndpoint)
            .map(|f| (f.key, f.token.clone()))
            .collect();
        for (key, token) in waiting {
            if let Some(state) = self.ask(host, &key, &token, None, now) {
                self.set_state(&key, state);
            }
        }
    }
}
