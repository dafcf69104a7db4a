//! A strict reader for the YAML that deployment files are written in
//! (Istio `WasmPlugin`s, Kong declarative configs, Envoy bootstraps),
//! producing JSON values. The subset: block mappings and sequences, plain,
//! single- and double-quoted scalars, flow `[...]`/`{...}` (over several
//! lines too), comments, `---` documents, `|`/`>` block scalars. Anything
//! else (anchors, aliases, tags, directives, complex keys, plain scalars
//! continued on the next line, tabs in indentation, duplicate keys) is
//! refused with its line number rather than read some way a gateway
//! would not: a configuration must mean one thing.

mod flow;

use serde_json::{Map, Value};
use std::fmt;

/// Why a file cannot be read, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

type Result<T> = std::result::Result<T, YamlError>;

fn fail<T>(line: usize, message: impl Into<String>) -> Result<T> {
    Err(YamlError {
        line,
        message: message.into(),
    })
}

/// One line: its number (from 1), indentation and text after it (a
/// sequence entry's content is re-read as a line of its own, further in).
#[derive(Clone, Debug)]
struct Line<'a> {
    number: usize,
    indent: usize,
    text: &'a str,
}

impl Line<'_> {
    /// Blank or only a comment.
    fn is_empty(&self) -> bool {
        self.text.is_empty() || self.text.starts_with('#')
    }
}

/// Every document of `text` (empty ones, only comments, are skipped).
pub fn parse(text: &str) -> Result<Vec<Value>> {
    let mut docs = Vec::new();
    let mut current: Vec<Line<'_>> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i.saturating_add(1);
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let text = raw.trim_start_matches(' ');
        let indent = raw.len().saturating_sub(text.len());
        if text.starts_with('\t') && !text.trim().is_empty() {
            return fail(number, "a tab in indentation (YAML indents with spaces)");
        }
        let marker = |m: &str| {
            indent == 0
                && text.strip_prefix(m).is_some_and(|rest| {
                    let rest = rest.trim();
                    rest.is_empty() || rest.starts_with('#')
                })
        };
        if marker("---") || marker("...") {
            docs.extend(document(&current)?);
            current.clear();
            continue;
        }
        if indent == 0 && text.starts_with('%') {
            return fail(number, "directives (%YAML, %TAG) are not supported");
        }
        if indent == 0 && text.starts_with("---") {
            return fail(
                number,
                "content after --- is not supported: start it on the next line",
            );
        }
        current.push(Line {
            number,
            indent,
            text: text.trim_end(),
        });
    }
    docs.extend(document(&current)?);
    Ok(docs)
}

/// One document's value, `None` when it holds nothing.
fn document(lines: &[Line<'_>]) -> Result<Option<Value>> {
    let mut reader = Reader {
        lines: lines.to_vec(),
        at: 0,
        depth: 0,
    };
    reader.skip_empty();
    let Some(first) = reader.peek() else {
        return Ok(None);
    };
    let (indent, number) = (first.indent, first.number);
    let value = reader.node(indent)?;
    reader.skip_empty();
    if let Some(extra) = reader.peek() {
        return fail(
            extra.number,
            format!("unexpected content (the document started at line {number})"),
        );
    }
    Ok(Some(value))
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    at: usize,
    /// Nodes under way: bounded, so a hostile file cannot overflow the stack.
    depth: usize,
}

/// Deeper than any configuration (the compiler's JSON reader stops at 128).
pub const MAX_DEPTH: usize = 128;

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<&Line<'a>> {
        self.lines.get(self.at)
    }

    fn skip_empty(&mut self) {
        while self.peek().is_some_and(Line::is_empty) {
            self.at = self.at.saturating_add(1);
        }
    }

    /// The block node whose first line (not empty) is at `indent`.
    fn node(&mut self, indent: usize) -> Result<Value> {
        self.depth = self.depth.saturating_add(1);
        let value = self.node_at(indent);
        self.depth = self.depth.saturating_sub(1);
        value
    }

    fn node_at(&mut self, indent: usize) -> Result<Value> {
        self.skip_empty();
        if self.depth > MAX_DEPTH {
            let line = self.peek().map_or(0, |l| l.number);
            return fail(line, format!("nested more than {MAX_DEPTH} levels deep"));
        }
        let Some(line) = self.peek().cloned() else {
            return Ok(Value::Null);
        };
        if is_entry(line.text) {
            return self.sequence(indent);
        }
        if flow::split_key(line.text, line.number)?.is_some() {
            return self.mapping(indent);
        }
        self.at = self.at.saturating_add(1);
        self.scalar_or_flow(line.text, line.number, indent)
    }

    fn sequence(&mut self, indent: usize) -> Result<Value> {
        let mut items = Vec::new();
        loop {
            self.skip_empty();
            let Some(line) = self.peek().cloned() else {
                break;
            };
            if line.indent < indent || (line.indent == indent && !is_entry(line.text)) {
                break;
            }
            if line.indent > indent || !is_entry(line.text) {
                return fail(line.number, "bad indentation in a sequence");
            }
            let rest = line.text.get(1..).unwrap_or("");
            let content = rest.trim_start_matches(' ');
            if content.is_empty() || content.starts_with('#') {
                self.at = self.at.saturating_add(1);
                items.push(self.child(indent)?);
                continue;
            }
            if let Some(header) = content.strip_prefix(['|', '>']) {
                self.at = self.at.saturating_add(1);
                let folded = content.starts_with('>');
                let header = flow::strip_comment(header);
                items.push(self.block_scalar(header, folded, line.number, indent)?);
                continue;
            }
            // The entry's content is read as a line of its own, indented to
            // where it starts: `- a: 1` then `  b: 2` is one mapping.
            let offset = line.text.len().saturating_sub(content.len());
            if let Some(slot) = self.lines.get_mut(self.at) {
                slot.indent = indent.saturating_add(offset);
                slot.text = content;
            }
            items.push(self.node(indent.saturating_add(offset))?);
        }
        Ok(Value::Array(items))
    }

    fn mapping(&mut self, indent: usize) -> Result<Value> {
        let mut map = Map::new();
        loop {
            self.skip_empty();
            let Some(line) = self.peek().cloned() else {
                break;
            };
            if line.indent < indent {
                break;
            }
            if line.indent > indent {
                return fail(line.number, "bad indentation in a mapping");
            }
            if is_entry(line.text) {
                return fail(
                    line.number,
                    "a sequence entry where a mapping key was expected",
                );
            }
            let Some((key, rest)) = flow::split_key(line.text, line.number)? else {
                return fail(line.number, "expected a `key: value` line");
            };
            if map.contains_key(&key) {
                return fail(line.number, format!("duplicate key {key:?}"));
            }
            self.at = self.at.saturating_add(1);
            let value = match rest {
                "" => self.child(indent)?,
                text => self.inline(text, line.number, indent)?,
            };
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }

    /// The value of a key or entry with nothing after it on its line: a
    /// deeper block (a sequence may also sit at the key's own indent), or null.
    fn child(&mut self, indent: usize) -> Result<Value> {
        self.skip_empty();
        match self.peek() {
            Some(next) if next.indent > indent => {
                let deeper = next.indent;
                self.node(deeper)
            }
            Some(next) if next.indent == indent && is_entry(next.text) => self.sequence(indent),
            _ => Ok(Value::Null),
        }
    }

    /// A value after `key:` on the same line.
    fn inline(&mut self, text: &str, number: usize, indent: usize) -> Result<Value> {
        let text = flow::strip_comment(text);
        if let Some(header) = text.strip_prefix(['|', '>']) {
            let folded = text.starts_with('>');
            return self.block_scalar(header, folded, number, indent);
        }
        self.scalar_or_flow(text, number, indent)
    }

    /// A scalar or flow collection starting on line `number`; a flow
    /// collection may go on over the following (more indented) lines.
    fn scalar_or_flow(&mut self, text: &str, number: usize, indent: usize) -> Result<Value> {
        let text = flow::strip_comment(text);
        if !text.starts_with(['[', '{']) {
            let value = flow::scalar(text, number)?;
            self.skip_empty();
            if let Some(next) = self.peek() {
                if next.indent > indent {
                    return fail(
                        next.number,
                        "a plain scalar continued on the next line is not supported: \
                         quote it or use a | block",
                    );
                }
            }
            return Ok(value);
        }
        let mut joined = text.to_owned();
        loop {
            match flow::collection(&joined, number)? {
                Some(value) => return Ok(value),
                None => {
                    let Some(next) = self.peek().cloned() else {
                        return fail(number, "unterminated flow collection");
                    };
                    self.at = self.at.saturating_add(1);
                    if !next.is_empty() {
                        joined.push(' ');
                        joined.push_str(flow::strip_comment(next.text));
                    }
                }
            }
        }
    }

    /// A `|` (literal) or `>` (folded) block scalar; `header` is what
    /// follows the indicator: chomping (`-`, `+`) and an indentation digit.
    fn block_scalar(
        &mut self,
        header: &str,
        folded: bool,
        number: usize,
        indent: usize,
    ) -> Result<Value> {
        let mut chomp = ' ';
        let mut explicit = None;
        for c in header.trim().chars() {
            match c {
                '-' | '+' if chomp == ' ' => chomp = c,
                '1'..='9' if explicit.is_none() => explicit = c.to_digit(10),
                _ => return fail(number, format!("bad block scalar header {header:?}")),
            }
        }
        // Its lines: every following line deeper than the key, or blank.
        let mut body: Vec<(usize, &str)> = Vec::new();
        while let Some(line) = self.peek() {
            if !line.text.is_empty() && line.indent <= indent {
                break;
            }
            body.push((line.indent, line.text));
            self.at = self.at.saturating_add(1);
        }
        let first = body.iter().find(|(_, t)| !t.is_empty()).map(|(i, _)| *i);
        let content = match explicit {
            Some(n) => indent.saturating_add(n as usize),
            None => first.unwrap_or(indent.saturating_add(1)),
        };
        let mut lines = Vec::with_capacity(body.len());
        for (i, t) in &body {
            if t.is_empty() {
                lines.push(String::new());
            } else if *i < content {
                return fail(
                    number,
                    "a block scalar line is less indented than its first line",
                );
            } else {
                let pad = " ".repeat(i.saturating_sub(content));
                lines.push(format!("{pad}{t}"));
            }
        }
        let kept = lines
            .iter()
            .rposition(|l| !l.is_empty())
            .map_or(0, |p| p.saturating_add(1));
        let trailing = lines.len().saturating_sub(kept);
        lines.truncate(kept);
        let mut out = if folded {
            fold(&lines)
        } else {
            lines.join("\n")
        };
        match chomp {
            '-' => {}
            '+' => out.push_str(&"\n".repeat(trailing.saturating_add(usize::from(kept > 0)))),
            _ if kept > 0 => out.push('\n'),
            _ => {}
        }
        Ok(Value::String(out))
    }
}

/// `>` folding: lines of the same indentation join with a space, an empty
/// line is a line break, more-indented lines keep theirs.
fn fold(lines: &[String]) -> String {
    let deeper = |l: &str| l.starts_with(' ');
    let mut out = String::new();
    // The line before, and the last non-empty one (a more-indented line
    // keeps its line breaks, empty lines between or not).
    let mut previous: Option<&str> = None;
    let mut text: Option<&str> = None;
    for line in lines {
        if let Some(p) = previous {
            let after_text = text.is_some_and(|t| deeper(t) || deeper(line));
            if line.is_empty() || after_text {
                out.push('\n');
            } else if !p.is_empty() {
                out.push(' ');
            }
        }
        out.push_str(line);
        previous = Some(line);
        if !line.is_empty() {
            text = Some(line);
        }
    }
    out
}

/// A sequence entry: `-` alone or followed by a space.
fn is_entry(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

#[cfg(test)]
mod tests;
