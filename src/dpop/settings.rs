//! A provider's DPoP settings as the request path uses them (compiled once
//! by the config compiler), the request URI a proof must name, and the
//! challenge a rule sends when one of its providers takes DPoP.

use super::{normalize_htu, Nonces};
use crate::jws::Alg;
use crate::request::Headers;

/// Longest `jti` accepted: enough for any UUID or random id, and a bound on
/// what one proof costs to hash.
pub const MAX_JTI_LEN: usize = 256;

/// Whether Bearer tokens still pass (`mode` `off` compiles to no settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Only DPoP-bound tokens with a valid proof.
    Required,
    /// Unbound Bearer tokens pass too; a bound token needs its proof.
    Allowed,
}

/// `authority`: the external origin proofs name when the gateway sits
/// behind another proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// `None`: the request's own `:scheme`.
    pub scheme: Option<String>,
    pub authority: String,
}

/// A provider's `dpop`, compiled.
#[derive(Clone, Debug)]
pub struct Settings {
    pub mode: Mode,
    pub algorithms: Vec<Alg>,
    pub max_age_s: u64,
    pub future_skew_s: u64,
    /// Shared-data slots of the replay store (each holds a few entries).
    pub replay_slots: usize,
    /// `jwt_guard/dpop/<provider hash>/`: this provider's replay slots.
    pub shared_prefix: String,
    pub nonces: Option<Nonces>,
    pub origin: Option<Origin>,
}

impl Settings {
    /// The replay-store slot that holds proof `key`.
    pub fn slot_name(&self, key: &str) -> String {
        let slot = super::replay::slot_of(key, self.replay_slots);
        format!("{}{slot}", self.shared_prefix)
    }

    /// The `htu` this request's proof must name, in comparison form: the
    /// scheme and authority the client used (or `origin`'s), and the path
    /// as the client sent it, without query. `None` when they make no URI.
    pub fn request_htu(&self, headers: &Headers) -> Option<String> {
        let own_scheme = || {
            headers
                .get(":scheme")
                .filter(|s| !s.is_empty())
                .unwrap_or("http")
        };
        // Kong's `:authority` is the server's own name: the client's Host
        // is its `host` header there (Envoy has none besides `:authority`).
        let own_authority = || {
            ["host", ":authority"]
                .iter()
                .filter_map(|n| headers.get(n))
                .find(|v| !v.is_empty())
                .unwrap_or("")
        };
        let (scheme, authority) = match &self.origin {
            Some(o) => (
                o.scheme.as_deref().unwrap_or_else(own_scheme),
                o.authority.as_str(),
            ),
            None => (own_scheme(), own_authority()),
        };
        let path = headers.path();
        if !path.starts_with('/') {
            return None;
        }
        normalize_htu(&format!("{scheme}://{authority}{path}"))
    }
}

/// What a rule's `WWW-Authenticate` offers when one of its providers takes
/// DPoP (RFC 9449 §7.1): the DPoP scheme with the algorithms it accepts,
/// and Bearer too unless every such provider requires DPoP. Built once per
/// rule.
#[derive(Clone, Debug)]
pub struct Offer {
    /// Bearer tokens can pass somewhere in the rule.
    pub bearer: bool,
    /// `algs`: the accepted algorithms, space-separated.
    pub algs: String,
    /// The first of the rule's providers with nonces: a `use_dpop_nonce`
    /// reply carries one of its nonces.
    pub nonces: Option<Nonces>,
}

impl Offer {
    /// The offer of a rule whose providers take DPoP with `settings`
    /// (`None` for a provider without DPoP); `None` when none does.
    pub fn new<'a>(settings: impl Iterator<Item = Option<&'a Settings>>) -> Option<Offer> {
        let mut algs: Vec<Alg> = Vec::new();
        let mut bearer = false;
        let mut nonces = None;
        let mut any = false;
        for s in settings {
            let Some(s) = s else {
                bearer = true;
                continue;
            };
            any = true;
            bearer |= s.mode == Mode::Allowed;
            for a in &s.algorithms {
                if !algs.contains(a) {
                    algs.push(*a);
                }
            }
            if nonces.is_none() {
                nonces = s.nonces.clone();
            }
        }
        if !any {
            return None;
        }
        let algs = Alg::ALL
            .iter()
            .filter(|a| algs.contains(a))
            .map(|a| a.name())
            .collect::<Vec<_>>()
            .join(" ");
        Some(Offer {
            bearer,
            algs,
            nonces,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::headers as request;

    fn settings(mode: Mode, algorithms: Vec<Alg>, origin: Option<Origin>) -> Settings {
        Settings {
            mode,
            algorithms,
            max_age_s: 300,
            future_skew_s: 5,
            replay_slots: 64,
            shared_prefix: "jwt_guard/dpop/p/".into(),
            nonces: None,
            origin,
        }
    }

    #[test]
    fn the_htu_is_the_uri_the_client_sent_without_its_query() {
        let s = settings(Mode::Required, vec![Alg::ES256], None);
        let h = request(&[
            (":scheme", "https"),
            (":authority", "API.example.com:443"),
            (":path", "/a/./b?x=1#f"),
        ]);
        assert_eq!(
            s.request_htu(&h).as_deref(),
            Some("https://api.example.com/a/b")
        );
        // Kong: the client's Host is a header of its own.
        let h = request(&[
            (":authority", "localhost:8000"),
            ("host", "shop.example"),
            (":path", "/"),
        ]);
        assert_eq!(s.request_htu(&h).as_deref(), Some("http://shop.example/"));
        // Not an origin-form path: no URI.
        let h = request(&[(":authority", "a"), (":path", "*")]);
        assert_eq!(s.request_htu(&h), None);
    }

    #[test]
    fn an_origin_replaces_what_the_request_says() {
        let origin = |scheme: Option<&str>| Origin {
            scheme: scheme.map(str::to_owned),
            authority: "api.example.com".into(),
        };
        let h = request(&[
            (":scheme", "http"),
            (":authority", "10.0.0.7:8080"),
            (":path", "/o"),
        ]);
        let s = settings(Mode::Required, vec![], Some(origin(Some("https"))));
        assert_eq!(
            s.request_htu(&h).as_deref(),
            Some("https://api.example.com/o")
        );
        let s = settings(Mode::Required, vec![], Some(origin(None)));
        assert_eq!(
            s.request_htu(&h).as_deref(),
            Some("http://api.example.com/o")
        );
    }

    #[test]
    fn an_offer_joins_its_providers_algorithms_in_a_fixed_order() {
        let a = settings(Mode::Required, vec![Alg::EdDSA, Alg::ES256], None);
        let b = settings(Mode::Required, vec![Alg::RS256, Alg::ES256], None);
        let offer = Offer::new([Some(&a), Some(&b)].into_iter()).unwrap();
        assert_eq!(offer.algs, "RS256 ES256 EdDSA");
        assert!(!offer.bearer, "every provider requires DPoP");
        let allowed = settings(Mode::Allowed, vec![Alg::ES256], None);
        assert!(Offer::new([Some(&allowed)].into_iter()).unwrap().bearer);
        assert!(Offer::new([Some(&a), None].into_iter()).unwrap().bearer);
        assert!(Offer::new([None, None].into_iter()).is_none());
    }
}
