//! `jwt-guard explain`: one request through the module's own decision
//! engine (`rules::evaluate`, `response::reply`), offline, with every step
//! it reports kept for [`super::report`].

use super::conditions::{self, TokenChecks};
use super::offline::{Answer, Offline, Step};
use super::{fetch, source};
use crate::authn::Keys;
use crate::config;
use crate::introspection;
use crate::jwks::{self, Jwks};
use crate::request::{Headers, Update, Writes};
use crate::response::{self, Reply};
use crate::rules::{self, Decision, Policy};
use std::sync::Arc;

/// What `explain` was asked.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub config: String,
    /// Which configuration of the file (from 1), when it holds several.
    pub select: Option<usize>,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub now: u64,
    /// `provider=FILE` pairs.
    pub jwks: Vec<(String, String)>,
    pub introspection: Vec<(String, String)>,
    pub fetch: bool,
    pub show_claims: bool,
}

/// What the module would do.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Passed upstream with these header changes (no values: removed).
    Allow(Vec<Update>),
    Deny {
        reason: &'static str,
        reply: Reply,
    },
    /// Undecided: it would wait for a callout (not expected offline).
    Wait(String),
}

/// Everything `explain` prints.
#[derive(Clone, Debug)]
pub struct Explained {
    pub place: String,
    pub method: String,
    pub path: String,
    pub now: u64,
    pub rule: Option<usize>,
    pub steps: Vec<Step>,
    /// `None`: the rule has no `authorize`, or authentication did not pass.
    pub authorize: Option<Vec<TokenChecks>>,
    pub outcome: Outcome,
}

/// Runs the request; an error for what cannot be read (config, files).
pub fn run(req: &Request) -> Result<Explained, String> {
    let text = std::fs::read_to_string(&req.config).map_err(|e| format!("{}: {e}", req.config))?;
    let found = source::configs(&text).map_err(|e| format!("{}: {e}", req.config))?;
    let chosen = match (req.select, found.len()) {
        (None, 1) => found.into_iter().next(),
        (None, n) => {
            let list: Vec<String> = found
                .iter()
                .enumerate()
                .map(|(i, f)| format!("  {}: {}", i.saturating_add(1), f.place))
                .collect();
            return Err(format!(
                "{} holds {n} configurations; choose one with --select N:\n{}",
                req.config,
                list.join("\n")
            ));
        }
        (Some(i), _) => found.into_iter().nth(i.saturating_sub(1)),
    };
    let Some(found) = chosen else {
        return Err(format!(
            "{}: no configuration number {:?}",
            req.config, req.select
        ));
    };
    let place = match found.place.as_str() {
        "" => req.config.clone(),
        p => format!("{}: {p}", req.config),
    };
    let compiled = config::compile(&found.text).map_err(|e| format!("{place}: {e}"))?;
    let policy = &compiled.policy;
    let keys = remote_keys(policy, req)?;
    let answers = answers(policy, req)?;
    let runtime = Offline::new(policy, keys, answers);
    let mut headers = Headers::new(request_headers(req));
    let decision = rules::evaluate(policy, &mut headers, req.now, &runtime);
    let run = runtime.finish();
    let rule = run.steps.iter().find_map(|s| match s {
        Step::Rule(r) => *r,
        _ => None,
    });
    let outcome = match &decision {
        Decision::Allow => Outcome::Allow(headers.updates(Writes::Exact).map_err(str::to_owned)?),
        Decision::Deny(denial) => Outcome::Deny {
            reason: crate::outcome::Reason::of_denial(denial).name(),
            // As the glue: from the request as it arrived.
            reply: response::reply(denial, &response::realm(&headers), policy.problem_details),
        },
        Decision::Wait(callouts) => Outcome::Wait(format!("{callouts:?}")),
    };
    let authorize = rule
        .and_then(|r| policy.rules.get(r))
        .and_then(|r| r.authorize.as_ref())
        .filter(|_| run.root_passed && authorize_ran(&decision))
        .map(|a| {
            conditions::walk(
                a,
                &run.verified,
                &policy.providers,
                &headers,
                req.show_claims,
            )
        });
    Ok(Explained {
        place,
        method: req.method.clone(),
        path: req.path.clone(),
        now: req.now,
        rule,
        steps: run.steps,
        authorize,
        outcome,
    })
}

/// Whether the rule's `authorize` was reached once authentication passed:
/// only a DPoP proof recorded as replayed stops a request in between.
fn authorize_ran(decision: &Decision<'_>) -> bool {
    use crate::error::Status;
    use rules::Denial;
    match decision {
        Decision::Deny(Denial::Authn(s) | Denial::Dpop { status: s, .. }) => {
            *s == Status::JwtMissed
        }
        Decision::Wait(_) => false,
        _ => true,
    }
}

/// The headers the filter sees: Envoy's pseudo-headers, then the given
/// ones (names lower-cased, values without surrounding whitespace, `host`
/// as `:authority`).
fn request_headers(req: &Request) -> Vec<(String, String)> {
    let mut authority = "localhost".to_owned();
    let mut rest = Vec::new();
    for (name, value) in &req.headers {
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim_matches([' ', '\t']).to_owned();
        match name.as_str() {
            "host" | ":authority" => authority = value,
            _ => rest.push((name, value)),
        }
    }
    let mut out = vec![
        (":authority".to_owned(), authority),
        (":path".to_owned(), req.path.clone()),
        (":method".to_owned(), req.method.clone()),
        (":scheme".to_owned(), "http".to_owned()),
    ];
    out.extend(rest);
    out
}

fn provider_index(policy: &Policy, name: &str, flag: &str) -> Result<usize, String> {
    policy
        .providers
        .iter()
        .position(|p| p.name == name)
        .ok_or_else(|| format!("{flag} {name}=...: no provider named {name:?}"))
}

/// Keys of the providers with `remote_jwks`/`discovery`: from `--jwks`
/// files, else fetched with `--fetch`, else none.
fn remote_keys(policy: &Policy, req: &Request) -> Result<Vec<Option<Arc<Jwks>>>, String> {
    let mut out: Vec<Option<Arc<Jwks>>> = vec![None; policy.providers.len()];
    for (name, file) in &req.jwks {
        let i = provider_index(policy, name, "--jwks")?;
        let text =
            std::fs::read_to_string(file).map_err(|e| format!("--jwks {name}={file}: {e}"))?;
        let keys = usable(policy, i, &text).map_err(|e| format!("--jwks {name}={file}: {e}"))?;
        if let Some(slot) = out.get_mut(i) {
            *slot = Some(Arc::new(keys));
        }
    }
    if req.fetch {
        for (i, p) in policy.providers.iter().enumerate() {
            let Keys::Remote { remote, .. } = &p.keys else {
                continue;
            };
            if out.get(i).is_some_and(Option::is_some) {
                continue;
            }
            let text =
                fetch::keys(remote, &p.issuer).map_err(|e| format!("--fetch {}: {e}", p.name))?;
            let keys = usable(policy, i, &text).map_err(|e| format!("--fetch {}: {e}", p.name))?;
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(Arc::new(keys));
            }
        }
    }
    Ok(out)
}

/// A fetched key set as the module keeps it: unusable keys skipped, the
/// provider's key policy applied.
fn usable(policy: &Policy, provider: usize, text: &str) -> Result<Jwks, String> {
    let Some(Keys::Remote {
        policy: key_policy, ..
    }) = policy.providers.get(provider).map(|p| &p.keys)
    else {
        return Err(
            "the provider has no remote_jwks or discovery: its keys are in the config".to_owned(),
        );
    };
    let fetched = jwks::parse_fetched(text).map_err(|e| e.to_string())?;
    let mut skipped = fetched.skipped;
    key_policy
        .apply_fetched(fetched.jwks, &mut skipped)
        .map_err(|e| e.to_string())
}

/// Introspection answers from `--introspection` files.
fn answers(policy: &Policy, req: &Request) -> Result<Vec<Option<Answer>>, String> {
    let mut out: Vec<Option<Answer>> = vec![None; policy.providers.len()];
    for (name, file) in &req.introspection {
        let i = provider_index(policy, name, "--introspection")?;
        let what = || format!("--introspection {name}={file}");
        if policy
            .providers
            .get(i)
            .is_some_and(|p| p.introspection.is_none())
        {
            return Err(format!(
                "{}: provider {name:?} has no introspection",
                what()
            ));
        }
        let body = std::fs::read(file).map_err(|e| format!("{}: {e}", what()))?;
        let answer =
            match introspection::read_answer(&body).map_err(|e| format!("{}: {e}", what()))? {
                introspection::Answer::Active(a) => Answer::Active(a),
                introspection::Answer::Inactive => Answer::Inactive,
            };
        if let Some(slot) = out.get_mut(i) {
            *slot = Some(answer);
        }
    }
    Ok(out)
}
