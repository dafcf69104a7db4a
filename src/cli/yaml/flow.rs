//! The parts of a YAML line: keys, comments, scalars (plain ones resolved
//! as YAML 1.2's core schema, refusing what YAML 1.1 reads otherwise) and
//! flow collections.

use super::{fail, Result, MAX_DEPTH};
use serde_json::{Map, Number, Value};

/// `text` without a trailing comment (`#` at the start or after a space,
/// outside quotes), trimmed.
pub fn strip_comment(text: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut before = ' ';
    for (i, c) in text.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if (c == '"' || c == '\'') && " [{,:".contains(before) => quote = Some(c),
            None if c == '#' && before == ' ' => return text.get(..i).unwrap_or(text).trim_end(),
            None => {}
        }
        before = c;
    }
    text.trim_end()
}

/// A block mapping line's key and the rest after `:`, or `None` when the
/// line is not `key: ...`.
pub fn split_key(text: &str, line: usize) -> Result<Option<(String, &str)>> {
    if text.starts_with("? ") || text == "?" {
        return fail(line, "complex keys (?) are not supported");
    }
    refuse_indicators(text, line)?;
    if text.starts_with(['[', '{']) {
        return Ok(None);
    }
    if let Some(q) = text.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let mut flow = Flow::new(text, line);
        let Some(key) = flow.quoted(q)? else {
            return fail(
                line,
                "a quoted scalar continued on the next line is not supported",
            );
        };
        let rest = flow.rest().trim_start_matches(' ');
        return Ok(match rest.strip_prefix(':') {
            Some(r) if r.is_empty() || r.starts_with(' ') => Some((key, r.trim_start())),
            _ => None,
        });
    }
    let code = strip_comment(text);
    let colon = code.char_indices().find(|&(i, c)| {
        c == ':'
            && code
                .get(i.saturating_add(1)..)
                .is_some_and(|r| r.is_empty() || r.starts_with(' '))
    });
    let Some((i, _)) = colon else {
        return Ok(None);
    };
    let key = code.get(..i).unwrap_or("").trim_end();
    if key.is_empty() {
        return fail(line, "a mapping entry without a key");
    }
    let rest = code.get(i.saturating_add(1)..).unwrap_or("").trim_start();
    Ok(Some((key.to_owned(), rest)))
}

fn refuse_indicators(text: &str, line: usize) -> Result<()> {
    match text.chars().next() {
        Some('&') => fail(line, "anchors (&) are not supported"),
        Some('*') => fail(line, "aliases (*) are not supported"),
        Some('!') => fail(line, "tags (!) are not supported"),
        Some('@' | '`') => fail(line, "a plain scalar cannot start with @ or `: quote it"),
        _ => Ok(()),
    }
}

/// A scalar that fills the rest of a line (already without its comment).
pub fn scalar(text: &str, line: usize) -> Result<Value> {
    refuse_indicators(text, line)?;
    match text.chars().next() {
        None => Ok(Value::Null),
        Some(q @ ('"' | '\'')) => {
            let mut flow = Flow::new(text, line);
            let Some(s) = flow.quoted(q)? else {
                return fail(
                    line,
                    "a quoted scalar continued on the next line is not supported",
                );
            };
            if !flow.rest().trim().is_empty() {
                return fail(line, "unexpected text after a quoted scalar");
            }
            Ok(Value::String(s))
        }
        Some(_) => {
            if text.contains(": ") {
                return fail(line, "a `key: value` where a single value was expected");
            }
            plain(text, line)
        }
    }
}

/// A plain scalar's value: null, a boolean, a number, else the string.
fn plain(text: &str, line: usize) -> Result<Value> {
    match text {
        "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        "true" | "True" | "TRUE" => return Ok(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(Value::Bool(false)),
        _ => {}
    }
    let ambiguous = ["yes", "no", "on", "off", "y", "n"];
    if ambiguous.iter().any(|a| a.eq_ignore_ascii_case(text)) {
        return fail(
            line,
            format!("{text:?} is a boolean to some YAML readers and a string to others: quote it or write true/false"),
        );
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if let Some(hex) = text.strip_prefix("0x") {
        return number_or_string(u64::from_str_radix(hex, 16).ok().map(Number::from), text);
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return number_or_string(u64::from_str_radix(oct, 8).ok().map(Number::from), text);
    }
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if digits.len() > 1 && digits.starts_with('0') {
            return fail(
                line,
                format!("{text:?} is octal to some YAML readers: quote it or drop the leading 0"),
            );
        }
        let n = text.parse::<i64>().ok().map(Number::from);
        let n = n.or_else(|| text.parse::<u64>().ok().map(Number::from));
        return number_or_string(n.or_else(|| float(text)), text);
    }
    let lower = digits.to_ascii_lowercase();
    if lower == ".inf" || lower == ".nan" {
        return fail(line, format!("{text:?} has no JSON equivalent"));
    }
    if is_float(digits) {
        return number_or_string(float(text), text);
    }
    Ok(Value::String(text.to_owned()))
}

fn float(text: &str) -> Option<Number> {
    text.parse::<f64>().ok().and_then(Number::from_f64)
}

fn number_or_string(n: Option<Number>, text: &str) -> Result<Value> {
    Ok(n.map_or_else(|| Value::String(text.to_owned()), Value::Number))
}

/// `1.5`, `.5`, `1.`, `1e3`, `1.5E-3` (YAML 1.2 core schema floats).
fn is_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (s.get(..i).unwrap_or(""), s.get(i.saturating_add(1)..)),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = all_digits(int) && all_digits(frac) && !(int.is_empty() && frac.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}

/// A flow collection over `text`; `None` when it is not closed yet (the
/// caller adds the next line and asks again).
pub fn collection(text: &str, line: usize) -> Result<Option<Value>> {
    let mut flow = Flow::new(text, line);
    let Some(value) = flow.value()? else {
        return Ok(None);
    };
    if !flow.rest().trim().is_empty() {
        return fail(line, "unexpected text after a flow collection");
    }
    Ok(Some(value))
}

/// A cursor over flow text. `Ok(None)` everywhere means "ran out of text".
struct Flow<'a> {
    text: &'a str,
    at: usize,
    line: usize,
    /// Collections under way (bounded, as block nodes are).
    depth: usize,
}

impl<'a> Flow<'a> {
    fn new(text: &'a str, line: usize) -> Flow<'a> {
        Flow {
            text,
            at: 0,
            line,
            depth: 0,
        }
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.at..).unwrap_or("")
    }

    fn next_char(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self, c: char) {
        self.at = self.at.saturating_add(c.len_utf8());
    }

    fn skip_space(&mut self) {
        while let Some(c) = self.next_char().filter(|c| *c == ' ') {
            self.bump(c);
        }
    }

    fn value(&mut self) -> Result<Option<Value>> {
        self.depth = self.depth.saturating_add(1);
        let value = self.value_at();
        self.depth = self.depth.saturating_sub(1);
        value
    }

    fn value_at(&mut self) -> Result<Option<Value>> {
        if self.depth > MAX_DEPTH {
            return fail(
                self.line,
                format!("nested more than {MAX_DEPTH} levels deep"),
            );
        }
        self.skip_space();
        match self.next_char() {
            None => Ok(None),
            Some('[') => self.sequence(),
            Some('{') => self.mapping(),
            Some(q @ ('"' | '\'')) => Ok(self.quoted(q)?.map(Value::String)),
            Some(_) => {
                let raw = self.plain_text();
                refuse_indicators(raw, self.line)?;
                plain(raw, self.line).map(Some)
            }
        }
    }

    /// A plain scalar in a flow collection: up to `,`, a bracket, or `: `.
    fn plain_text(&mut self) -> &'a str {
        let start = self.at;
        while let Some(c) = self.next_char() {
            if ",[]{}".contains(c) {
                break;
            }
            if c == ':' {
                let after = self.rest().get(1..).and_then(|r| r.chars().next());
                if after.is_none_or(|a| " ,[]{}".contains(a)) {
                    break;
                }
            }
            self.bump(c);
        }
        self.text.get(start..self.at).unwrap_or("").trim_end()
    }

    fn sequence(&mut self) -> Result<Option<Value>> {
        self.bump('[');
        let mut items = Vec::new();
        loop {
            self.skip_space();
            match self.next_char() {
                None => return Ok(None),
                Some(']') => {
                    self.bump(']');
                    return Ok(Some(Value::Array(items)));
                }
                Some(_) => {}
            }
            let Some(item) = self.value()? else {
                return Ok(None);
            };
            items.push(item);
            if !self.separator(']')? {
                return Ok(None);
            }
        }
    }

    fn mapping(&mut self) -> Result<Option<Value>> {
        self.bump('{');
        let mut map = Map::new();
        loop {
            self.skip_space();
            let key = match self.next_char() {
                None => return Ok(None),
                Some('}') => {
                    self.bump('}');
                    return Ok(Some(Value::Object(map)));
                }
                Some(q @ ('"' | '\'')) => match self.quoted(q)? {
                    Some(k) => k,
                    None => return Ok(None),
                },
                Some(_) => self.plain_text().to_owned(),
            };
            self.skip_space();
            match self.next_char() {
                None => return Ok(None),
                Some(':') => self.bump(':'),
                Some(_) => return fail(self.line, format!("expected `:` after key {key:?}")),
            }
            self.skip_space();
            let value = match self.next_char() {
                None => return Ok(None),
                Some(',' | '}') => Value::Null,
                Some(_) => match self.value()? {
                    Some(v) => v,
                    None => return Ok(None),
                },
            };
            if map.insert(key.clone(), value).is_some() {
                return fail(self.line, format!("duplicate key {key:?}"));
            }
            if !self.separator('}')? {
                return Ok(None);
            }
        }
    }

    /// After an item: a `,`, or the closing bracket (left for the caller).
    fn separator(&mut self, close: char) -> Result<bool> {
        self.skip_space();
        match self.next_char() {
            None => Ok(false),
            Some(',') => {
                self.bump(',');
                Ok(true)
            }
            Some(c) if c == close => Ok(true),
            Some(c) => fail(self.line, format!("expected `,` or `{close}`, found {c:?}")),
        }
    }

    /// A quoted scalar starting at the cursor.
    fn quoted(&mut self, q: char) -> Result<Option<String>> {
        self.bump(q);
        let mut out = String::new();
        loop {
            let Some(c) = self.next_char() else {
                return Ok(None);
            };
            self.bump(c);
            if c == q {
                // '' inside single quotes is one quote.
                if q == '\'' && self.next_char() == Some('\'') {
                    self.bump('\'');
                    out.push('\'');
                    continue;
                }
                return Ok(Some(out));
            }
            if c == '\\' && q == '"' {
                let Some(e) = self.next_char() else {
                    return Ok(None);
                };
                self.bump(e);
                out.push(self.escape(e)?);
                continue;
            }
            out.push(c);
        }
    }

    fn escape(&mut self, e: char) -> Result<char> {
        let hex = |flow: &mut Flow<'_>, n: usize| -> Result<char> {
            let digits = flow.rest().get(..n).unwrap_or("");
            let code = u32::from_str_radix(digits, 16)
                .ok()
                .filter(|_| digits.len() == n);
            flow.at = flow.at.saturating_add(digits.len());
            match code.and_then(char::from_u32) {
                Some(c) => Ok(c),
                None => fail(flow.line, format!("bad escape \\{e}{digits}")),
            }
        };
        Ok(match e {
            '0' => '\0',
            'a' => '\u{7}',
            'b' => '\u{8}',
            't' | '\t' => '\t',
            'n' => '\n',
            'v' => '\u{b}',
            'f' => '\u{c}',
            'r' => '\r',
            'e' => '\u{1b}',
            ' ' => ' ',
            '"' => '"',
            '/' => '/',
            '\\' => '\\',
            'N' => '\u{85}',
            '_' => '\u{a0}',
            'L' => '\u{2028}',
            'P' => '\u{2029}',
            'x' => return hex(self, 2),
            'u' => return hex(self, 4),
            'U' => return hex(self, 8),
            other => return fail(self.line, format!("unknown escape \\{other}")),
        })
    }
}
