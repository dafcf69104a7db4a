//! How `explain` prints what it found: steps for people, or one JSON
//! object (`--json`) for programs. Token values are never printed.

use super::conditions::TokenChecks;
use super::explain::{Explained, Outcome};
use super::offline::{Decoded, Step};
use super::time;
use crate::error::Status;
use crate::trace::Check;
use serde_json::{json, Value};

fn when(secs: u64) -> String {
    match secs {
        0 => "-".to_owned(),
        s => time::format(s),
    }
}

fn check_text(check: Check, jwt: Option<&Decoded>) -> String {
    match check {
        Check::Issuer => "issuer accepted".to_owned(),
        Check::Header => "header hardening passed (alg, typ, crit)".to_owned(),
        Check::Time { now, skew } => match jwt {
            Some(j) => format!(
                "time: exp {}, nbf {}, at {} with {skew} s skew",
                when(j.exp),
                when(j.nbf),
                when(now)
            ),
            // An introspection answer's claims are not printed.
            None => format!("time: exp and nbf at {} with {skew} s skew", when(now)),
        },
        Check::Audience => "audience allowed".to_owned(),
        Check::Subject => "subject allowed".to_owned(),
        Check::Lifetime => "lifetime within max_lifetime".to_owned(),
        Check::Claims => "claim hardening passed".to_owned(),
        Check::Keys { count, remote } => format!(
            "keys: {count} {} key{}",
            if remote { "remote" } else { "local" },
            if count == 1 { "" } else { "s" }
        ),
        Check::Signature => "signature verified".to_owned(),
        Check::SignatureCached => "signature verified before with these keys".to_owned(),
        Check::Introspected => "introspection: the token is active".to_owned(),
        Check::Dpop => "DPoP proof and binding accepted".to_owned(),
    }
}

fn failed(status: Status) -> String {
    format!("{} ({status:?})", status.message())
}

/// The steps and the answer, for people.
pub fn text(e: &Explained) -> String {
    let mut out = Vec::new();
    out.push(format!("config: {}", e.place));
    out.push(format!(
        "request: {} {} at {}",
        e.method,
        e.path,
        time::format(e.now)
    ));
    let mut depth = 0usize;
    let mut jwt: Option<&Decoded> = None;
    for step in &e.steps {
        let pad = "  ".repeat(depth);
        let line = match step {
            Step::CorsPreflight => "CORS preflight: let through without credentials".to_owned(),
            Step::Rule(None) => "rule: none matches: nothing is required".to_owned(),
            Step::Rule(Some(r)) => format!("rule: rules[{r}]"),
            Step::Enter { depth: d, node } => {
                depth = d.saturating_add(1);
                format!("{}requirement {node}", "  ".repeat(*d))
            }
            Step::Leave {
                depth: d,
                node,
                result,
            } => {
                depth = *d;
                let how = match result {
                    Some(Ok(())) => "passed".to_owned(),
                    Some(Err(s)) => format!("failed: {}", failed(*s)),
                    None => "undecided".to_owned(),
                };
                format!("{}requirement {node}: {how}", "  ".repeat(*d))
            }
            Step::NoToken => format!("{pad}token: none found"),
            Step::Token(place) => format!("{pad}token: found in {place}"),
            Step::Decoded { cached, jwt: j } => {
                jwt = Some(j);
                let kid = j
                    .kid
                    .as_deref()
                    .map_or("none".to_owned(), |k| format!("{k:?}"));
                let from = if *cached {
                    " (from the verified-token cache)"
                } else {
                    ""
                };
                format!(
                    "{pad}decoded{from}: alg {}, kid {kid}, iss {:?}",
                    j.alg, j.iss
                )
            }
            Step::Provider(p) => format!("{pad}provider: {p}"),
            Step::Passed(c) => format!("{pad}  ok: {}", check_text(*c, jwt)),
            Step::Checked { provider, result } => {
                let at = provider
                    .as_deref()
                    .map_or(String::new(), |p| format!(" (provider {p})"));
                match result {
                    Ok(()) => format!("{pad}token accepted{at}"),
                    Err(s) => format!("{pad}  FAIL: {}{at}", failed(*s)),
                }
            }
            Step::NoKeys(p) => {
                format!("{pad}no keys for provider {p}: give them with --jwks {p}=FILE or --fetch")
            }
            Step::NoAnswer(p) => {
                format!("{pad}no introspection answer for provider {p}: give one with --introspection {p}=FILE")
            }
            Step::Decided { .. } => continue,
        };
        out.push(line);
    }
    if let Some(tokens) = &e.authorize {
        authorize_text(tokens, &mut out);
    }
    outcome_text(e, &mut out);
    let mut s = out.join("\n");
    s.push('\n');
    s
}

fn authorize_text(tokens: &[TokenChecks], out: &mut Vec<String>) {
    if tokens.is_empty() {
        out.push(
            "authorize: no verified token of its provider (answered as a missing token)".to_owned(),
        );
    }
    for t in tokens {
        let whose = t
            .provider
            .as_deref()
            .map_or("no token".to_owned(), |p| format!("token of provider {p}"));
        out.push(format!("authorize ({whose}):"));
        for c in &t.conditions {
            let pad = "  ".repeat(c.depth.saturating_add(1));
            let verdict = if c.passed { "ok  " } else { "FAIL" };
            let op = c.op.map_or(String::new(), |op| format!(" (fails {op:?})"));
            out.push(format!("{pad}{verdict} {}{op}", c.condition));
            for (path, value) in &c.values {
                out.push(format!("{pad}       {path} = {value}"));
            }
        }
    }
}

fn decided(e: &Explained) -> Option<(&Option<String>, &Option<String>)> {
    e.steps.iter().find_map(|s| match s {
        Step::Decided { provider, kid, .. } => Some((provider, kid)),
        _ => None,
    })
}

fn outcome_text(e: &Explained, out: &mut Vec<String>) {
    match &e.outcome {
        Outcome::Allow(updates) => {
            out.push("decision: allow (the request goes upstream)".to_owned());
            if updates.is_empty() {
                out.push("  upstream headers: unchanged".to_owned());
            }
            for (name, values) in updates {
                if values.is_empty() {
                    out.push(format!("  upstream: remove {name}"));
                }
                for v in values {
                    out.push(format!("  upstream: set {name}: {v}"));
                }
            }
        }
        Outcome::Deny { reason, reply } => {
            let about = match decided(e) {
                Some((Some(p), Some(k))) => format!(", provider {p}, kid {k:?}"),
                Some((Some(p), None)) => format!(", provider {p}"),
                _ => String::new(),
            };
            out.push(format!("decision: deny ({reason}{about})"));
            out.push(format!("  status: {}", reply.status));
            if let Some(w) = &reply.www_authenticate {
                out.push(format!("  www-authenticate: {w}"));
            }
            if let Some(ct) = reply.content_type {
                out.push(format!("  content-type: {ct}"));
            }
            if let Some(n) = &reply.dpop_nonce {
                out.push(format!("  dpop-nonce: {n}"));
            }
            out.push(format!("  body: {}", reply.body));
        }
        Outcome::Wait(callouts) => {
            out.push(format!("decision: undecided, it would wait for {callouts}"))
        }
    }
}

fn step_json(step: &Step) -> Value {
    let status = |s: &Status| json!({"status": format!("{s:?}"), "message": s.message()});
    match step {
        Step::CorsPreflight => json!({"step": "cors_preflight"}),
        Step::Rule(r) => json!({"step": "rule", "rule": r}),
        Step::Enter { depth, node } => json!({"step": "enter", "depth": depth, "node": node}),
        Step::Leave {
            depth,
            node,
            result,
        } => {
            let mut v = json!({"step": "leave", "depth": depth, "node": node, "result": match result {
                Some(Ok(())) => "passed", Some(Err(_)) => "failed", None => "undecided" }});
            if let (Some(Err(s)), Some(o)) = (result, v.as_object_mut()) {
                o.insert("failure".to_owned(), status(s));
            }
            v
        }
        Step::NoToken => json!({"step": "no_token"}),
        Step::Token(place) => json!({"step": "token", "location": place}),
        Step::Decoded { cached, jwt } => {
            json!({"step": "decoded", "cached": cached, "alg": jwt.alg,
            "kid": jwt.kid, "iss": jwt.iss, "aud": jwt.audiences, "exp": jwt.exp, "nbf": jwt.nbf})
        }
        Step::Provider(p) => json!({"step": "provider", "provider": p}),
        Step::Passed(c) => {
            let name = match c {
                Check::Issuer => "issuer",
                Check::Header => "header",
                Check::Time { now, skew } => {
                    return json!({"step": "passed", "check": "time", "now": now, "skew": skew})
                }
                Check::Audience => "audience",
                Check::Subject => "subject",
                Check::Lifetime => "lifetime",
                Check::Claims => "claims",
                Check::Keys { count, remote } => {
                    return json!({"step": "passed", "check": "keys", "count": count, "remote": remote})
                }
                Check::Signature => "signature",
                Check::SignatureCached => "signature_cached",
                Check::Introspected => "introspected",
                Check::Dpop => "dpop",
            };
            json!({"step": "passed", "check": name})
        }
        Step::Checked { provider, result } => match result {
            Ok(()) => json!({"step": "checked", "provider": provider, "ok": true}),
            Err(s) => {
                json!({"step": "checked", "provider": provider, "ok": false, "failure": status(s)})
            }
        },
        Step::NoKeys(p) => json!({"step": "no_keys", "provider": p}),
        Step::NoAnswer(p) => json!({"step": "no_introspection_answer", "provider": p}),
        Step::Decided {
            reason,
            provider,
            kid,
        } => {
            json!({"step": "decided", "reason": reason, "provider": provider, "kid": kid})
        }
    }
}

/// The whole explanation as one JSON object.
pub fn json(e: &Explained) -> Value {
    let authorize = e.authorize.as_ref().map(|tokens| {
        tokens
            .iter()
            .map(|t| {
                let conditions: Vec<Value> = t
                    .conditions
                    .iter()
                    .map(|c| {
                        let mut v = json!({"depth": c.depth, "condition": c.condition, "passed": c.passed, "op": c.op});
                        if let (false, Some(o)) = (c.values.is_empty(), v.as_object_mut()) {
                            let claims: serde_json::Map<String, Value> = c.values.iter().cloned().collect();
                            o.insert("claims".to_owned(), Value::Object(claims));
                        }
                        v
                    })
                    .collect();
                json!({"provider": t.provider, "conditions": conditions})
            })
            .collect::<Vec<_>>()
    });
    let mut v = json!({
        "config": e.place,
        "request": {"method": e.method, "path": e.path},
        "now": e.now,
        "rule": e.rule,
        "steps": e.steps.iter().map(step_json).collect::<Vec<_>>(),
        "authorize": authorize,
    });
    let decision = match &e.outcome {
        Outcome::Allow(updates) => {
            let upstream: Vec<Value> = updates
                .iter()
                .map(|(n, vs)| json!({"name": n, "values": vs}))
                .collect();
            json!({"decision": "allow", "reason": null, "reply": null, "upstream": upstream})
        }
        Outcome::Deny { reason, reply } => json!({"decision": "deny", "reason": reason, "reply": {
            "status": reply.status, "body": reply.body, "content_type": reply.content_type,
            "www_authenticate": reply.www_authenticate, "dpop_nonce": reply.dpop_nonce}, "upstream": []}),
        Outcome::Wait(callouts) => {
            json!({"decision": "wait", "reason": null, "reply": null, "waits_for": callouts, "upstream": []})
        }
    };
    if let (Some(o), Value::Object(d)) = (v.as_object_mut(), decision) {
        o.extend(d);
    }
    v
}
