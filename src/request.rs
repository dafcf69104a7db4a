//! The request headers as the core sees them: an ordered multimap that
//! remembers which names it changed, so the glue writes back only those.
//!
//! Verification mutates headers step by step (sanitise, add claim headers,
//! remove the token) and later steps read what earlier ones left, exactly as
//! in Envoy's filter; keeping one in-memory map reproduces that order.

/// Request headers, pseudo-headers (`:path`, `:method`, ...) included.
#[derive(Clone, Debug, Default)]
pub struct Headers {
    entries: Vec<(String, String)>,
    /// Changed names (lower case), each with how many values it had before
    /// its first change.
    touched: Vec<(String, usize)>,
    /// Values removed or replaced, moved here in the order they left: with
    /// `entries`, what the request arrived with ([`Headers::original`]).
    removed: Vec<(String, String)>,
}

/// How the host applies the header changes the glue writes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writes {
    /// What is written is what goes upstream (Envoy).
    Exact,
    /// ngx_wasm_module under nginx's proxy module: a removed header still
    /// goes upstream (it is only marked removed), replacing a header's value
    /// reaches only its first copy (further copies are marked the same way
    /// and keep theirs), and a `:path` without `?` keeps the old query.
    Nginx,
}

/// One header to write back: its final values, in order. Empty: remove it.
pub type Update = (String, Vec<String>);

impl Headers {
    /// Takes the host's header list; names are compared case-insensitively.
    pub fn new(entries: Vec<(String, String)>) -> Headers {
        Headers {
            entries,
            touched: Vec::new(),
            removed: Vec::new(),
        }
    }

    /// The first value `name` had when the request arrived, whatever was
    /// changed since. A name's values leave together (`remove`, `set`) and
    /// in order, and the ones it arrived with come before any added: so its
    /// first removed value is the first it had, and while none left, its
    /// first value still is.
    pub fn original(&self, name: &str) -> Option<&str> {
        let first_removed = || {
            self.removed
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        match self
            .touched
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(name))
        {
            None => self.get(name),
            Some((_, 0)) => None,
            Some(_) => first_removed().or_else(|| self.get(name)),
        }
    }

    /// Moves every value of `name` to `removed`, in order.
    fn take_all(&mut self, name: &str) {
        let mut i = 0;
        while i < self.entries.len() {
            if self
                .entries
                .get(i)
                .is_some_and(|(k, _)| k.eq_ignore_ascii_case(name))
            {
                self.removed.push(self.entries.remove(i));
            } else {
                i = i.saturating_add(1);
            }
        }
    }

    /// First value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of `name` joined with `,` (Envoy's getAllOfHeaderAsString),
    /// `None` when absent.
    pub fn get_joined(&self, name: &str) -> Option<String> {
        let mut out: Option<String> = None;
        for (_, v) in self
            .entries
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            match out.as_mut() {
                None => out = Some(v.clone()),
                Some(s) => {
                    s.push(',');
                    s.push_str(v);
                }
            }
        }
        out
    }

    /// Every value of `name`, in order: what Envoy's `get(name)` gives a
    /// filter (for a token header, one token per value).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn touch(&mut self, name: &str) {
        if !self
            .touched
            .iter()
            .any(|(t, _)| t.eq_ignore_ascii_case(name))
        {
            let before = self.get_all(name).count();
            self.touched.push((name.to_ascii_lowercase(), before));
        }
    }

    /// Removes every value of `name`.
    pub fn remove(&mut self, name: &str) {
        if self.get(name).is_some() {
            self.touch(name);
            self.take_all(name);
        }
    }

    /// Appends a value (Envoy's addCopy: an existing header gains a value).
    pub fn add(&mut self, name: &str, value: String) {
        self.touch(name);
        self.entries.push((name.to_ascii_lowercase(), value));
    }

    /// Replaces all values of `name` with one.
    pub fn set(&mut self, name: &str, value: String) {
        self.touch(name);
        self.take_all(name);
        self.entries.push((name.to_ascii_lowercase(), value));
    }

    /// `:path` (empty when absent).
    pub fn path(&self) -> &str {
        self.get(":path").unwrap_or("")
    }

    /// The first changed header with a value no host may forward (CR, LF,
    /// NUL, DEL: a claim copied to a header could otherwise inject headers
    /// upstream). Envoy's codec refuses such a request with 503 `invalid
    /// header value for: <name>`; the glue answers the same itself, so the
    /// protection does not depend on the host.
    pub fn unforwardable(&self) -> Option<&str> {
        self.touched
            .iter()
            .map(|(name, _)| name.as_str())
            .find(|name| {
                self.get_all(name)
                    .any(|v| v.bytes().any(|b| matches!(b, b'\r' | b'\n' | b'\0' | 0x7f)))
            })
    }

    /// For each changed name, its final values (empty: remove it).
    pub fn changes(&self) -> Vec<Update> {
        self.touched
            .iter()
            .map(|(name, _)| {
                let values = self.get_all(name).map(str::to_owned).collect();
                (name.clone(), values)
            })
            .collect()
    }

    /// The changes as a host that `writes` this way must be given them so
    /// that no removed or replaced value reaches the upstream. On nginx a
    /// removed header is blanked (set to the empty value) instead, a new
    /// `:path` without a query ends in `?` (so a token taken from the query
    /// leaves with it), and a changed header that arrived more than once
    /// cannot be made safe: its name comes back as the error (the glue then
    /// refuses the request rather than forward a client's copy).
    pub fn updates(&self, writes: Writes) -> Result<Vec<Update>, &str> {
        let mut out = self.changes();
        if writes == Writes::Exact {
            return Ok(out);
        }
        if let Some((name, _)) = self.touched.iter().find(|(_, before)| *before > 1) {
            return Err(name.as_str());
        }
        for (name, values) in &mut out {
            match values.first_mut() {
                None => values.push(String::new()),
                Some(path) if name == ":path" && !path.contains('?') => path.push('?'),
                Some(_) => {}
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Headers {
        Headers::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn repeated_headers_are_joined_with_a_comma() {
        let m = h(&[("authorization", "a"), ("x", "1"), ("Authorization", "b")]);
        assert_eq!(m.get_joined("authorization").as_deref(), Some("a,b"));
        assert_eq!(m.get("AUTHORIZATION"), Some("a"));
        assert_eq!(m.get_joined("nope"), None);
    }

    #[test]
    fn get_all_gives_every_value_of_a_repeated_header_in_order() {
        let m = h(&[("x-jwt", "a"), ("x", "1"), ("X-Jwt", ""), ("x-jwt", "c")]);
        assert_eq!(m.get_all("x-jwt").collect::<Vec<_>>(), vec!["a", "", "c"]);
        assert_eq!(m.get_all("nope").count(), 0);
    }

    #[test]
    fn only_changed_headers_with_cr_lf_nul_or_del_are_unforwardable() {
        for bad in ["a\r\nx-admin: true", "a\nb", "a\0b", "a\u{7f}b"] {
            let mut m = h(&[("x-client", "fine")]);
            m.add("x-sub", "alice".to_owned());
            m.add("x-sub", bad.to_owned());
            assert_eq!(m.unforwardable(), Some("x-sub"), "{bad:?}");
        }
        let mut m = h(&[("x-client", "a\nb")]); // not ours to judge
        m.add("x-sub", "Zoë\ttab \u{2028} ✓".to_owned());
        assert_eq!(m.unforwardable(), None);
    }

    #[test]
    fn where_writes_are_exact_updates_are_the_changes() {
        let mut m = h(&[
            ("authorization", "Bearer t"),
            ("x-org", "a"),
            ("x-org", "b"),
        ]);
        m.remove("authorization");
        m.set("x-org", "acme".into());
        assert_eq!(m.updates(Writes::Exact), Ok(m.changes()));
    }

    #[test]
    fn on_nginx_removed_headers_are_blanked() {
        let mut m = h(&[("authorization", "Bearer t"), ("x-org", "evil")]);
        m.remove("authorization");
        m.remove("x-org");
        m.set("x-user", "alice".into());
        m.remove("x-absent");
        let want = vec![
            ("authorization".to_owned(), vec![String::new()]),
            ("x-org".to_owned(), vec![String::new()]),
            ("x-user".to_owned(), vec!["alice".to_owned()]),
        ];
        assert_eq!(m.updates(Writes::Nginx), Ok(want));
    }

    #[test]
    fn on_nginx_a_repeated_changed_header_is_refused() {
        for change in ["remove", "set", "add"] {
            let mut m = h(&[("X-Org", "evil"), ("x-other", "1"), ("x-org", "corp")]);
            match change {
                "remove" => m.remove("x-org"),
                "set" => m.set("x-org", "acme".into()),
                _ => m.add("x-org", "acme".into()),
            }
            assert_eq!(m.updates(Writes::Nginx), Err("x-org"), "{change}");
            assert!(m.updates(Writes::Exact).is_ok(), "{change}");
        }
        // Repeated but untouched: not ours to rewrite, nothing to refuse.
        let mut m = h(&[("x-org", "a"), ("x-org", "b")]);
        m.set("x-user", "alice".into());
        assert!(m.updates(Writes::Nginx).is_ok());
    }

    #[test]
    fn on_nginx_a_path_without_a_query_ends_in_a_question_mark() {
        let mut m = h(&[(":path", "/p?access_token=t&a=1")]);
        m.set(":path", "/p?a=1".into());
        assert_eq!(m.updates(Writes::Nginx), Ok(m.changes()));
        m.set(":path", "/p".into());
        let want = vec![(":path".to_owned(), vec!["/p?".to_owned()])];
        assert_eq!(m.updates(Writes::Nginx), Ok(want));
        assert_eq!(m.updates(Writes::Exact), Ok(m.changes()));
    }

    #[test]
    fn the_original_value_survives_every_sequence_of_changes() {
        type Change = fn(&mut Headers);
        let changes: [(&str, Change); 4] = [
            ("remove", |m| m.remove("x-org")),
            ("set", |m| m.set("x-org", "set".into())),
            ("add", |m| m.add("x-org", "added".into())),
            ("other", |m| m.remove("x-other")),
        ];
        for arrived in [vec![], vec!["a"], vec!["a", "b"]] {
            let mut pairs: Vec<(&str, &str)> = vec![("x-other", "o")];
            pairs.extend(arrived.iter().map(|v| ("X-Org", *v)));
            for first in &changes {
                for second in &changes {
                    for third in &changes {
                        let mut m = h(&pairs);
                        for (_, change) in [first, second, third] {
                            change(&mut m);
                        }
                        let steps = [first.0, second.0, third.0];
                        assert_eq!(m.original("x-org"), arrived.first().copied(), "{steps:?}");
                        assert_eq!(m.original("x-other"), Some("o"));
                    }
                }
            }
        }
    }

    #[test]
    fn the_count_before_a_change_is_taken_at_the_first_change() {
        let mut m = h(&[("x-org", "a"), ("x-org", "b")]);
        m.remove("x-org");
        m.add("x-org", "acme".into()); // one value now; two arrived
        assert_eq!(m.updates(Writes::Nginx), Err("x-org"));
    }

    #[test]
    fn changes_list_only_touched_names_with_final_values() {
        let mut m = h(&[("a", "1"), ("b", "2")]);
        m.remove("a");
        m.add("c", "3".into());
        m.add("c", "4".into());
        m.remove("zzz");
        let ch = m.changes();
        assert_eq!(
            ch,
            vec![
                ("a".to_owned(), vec![]),
                ("c".to_owned(), vec!["3".to_owned(), "4".to_owned()])
            ]
        );
    }
}
