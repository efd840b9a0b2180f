//! A tiny HTML template engine: `{{name}}` slots, each filled exactly once and escaped for the
//! place where it stands.
//!
//! Why not a chain of `.replace("{{room}}", …)` calls: each call scans the whole text again,
//! including values that earlier calls put in. A name typed as `{{rooms}}` then becomes the room
//! list's raw HTML inside an attribute. Here a template is split **once** into literal text and
//! slots, and filling only ever appends: a value is written once and never read again.
//!
//! While splitting, a small scanner follows the HTML from the start (text, tag, quoted attribute
//! value, comment, `<script>`/`<style>`), so each slot knows its [`Context`]:
//! - element text, `<h1>#{{room}}</h1>`: the value is HTML-escaped;
//! - a double-quoted attribute value, `value="{{name}}"`: HTML-escaped (quotes included);
//! - the start of a URL attribute, `action="{{room_path}}"`: the value must be a path on this
//!   server (else it becomes [`FALLBACK_URL`]), and is then HTML-escaped.
//!
//! Places where escaping cannot make a value safe (inside a tag, an unquoted or single-quoted
//! value, an event handler, a style, a script, a comment) are refused when the template is parsed.

use std::fmt;

use crate::protocol::html::escape_into;

/// Where a slot stands in the HTML, which decides how its value is escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// Element content, e.g. `<h1>#{{room}}</h1>`.
    Text,
    /// A double-quoted attribute value, e.g. `value="{{name}}"`.
    Attribute,
    /// The start of a double-quoted URL attribute value, e.g. `ws-connect="{{connect}}"`.
    Url,
}

/// What a URL slot gets instead of a value that is not a path on this server.
pub const FALLBACK_URL: &str = "/";

/// Attributes whose value the browser follows or loads, so a value there must not be able to
/// choose its scheme (`javascript:`) or host (`//evil.example`).
const URL_ATTRIBUTES: &[&str] =
    &["href", "src", "action", "formaction", "ws-connect", "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete"];

/// A template, parsed once: literal text and slots, in order.
#[derive(Debug)]
pub struct Template {
    segments: Vec<Segment>,
}

#[derive(Debug)]
enum Segment {
    Literal(&'static str),
    Slot { name: &'static str, context: Context },
}

/// HTML that our own code built, with every piece of user text in it already escaped (the room
/// list, say). It goes into a template as it is, so only [`Context::Text`] slots take it, and
/// only the page-building code in [`crate::http`] can make one.
#[derive(Debug)]
pub struct Markup(String);

impl Markup {
    /// Wraps HTML built by the caller, who promises that it escaped all user text in it.
    pub(super) fn trusted(html: String) -> Markup {
        Markup(html)
    }
}

/// A value for one slot.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    /// Any text, user input included: the slot escapes it for its context.
    Plain(&'a str),
    /// Our own markup, written as it is; text slots only.
    Markup(&'a Markup),
}

/// Why a template's text is not a valid template.
#[derive(Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The line (from 1) of the `{{` at fault.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

impl std::error::Error for ParseError {}

/// Why a template could not be filled with the values given: always a mistake in our code.
#[derive(Debug, PartialEq, Eq)]
pub enum FillError {
    /// The template has this slot, and no value was given for it.
    Missing(&'static str),
    /// A value was given for a slot the template does not have.
    Unknown(String),
    /// Two values were given for the same slot.
    Twice(String),
    /// [`Value::Markup`] was given for a slot inside an attribute.
    MarkupInAttribute(&'static str),
}

impl fmt::Display for FillError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FillError::Missing(name) => write!(f, "no value for slot {{{{{name}}}}}"),
            FillError::Unknown(name) => write!(f, "a value for {{{{{name}}}}}, which the template does not have"),
            FillError::Twice(name) => write!(f, "two values for slot {{{{{name}}}}}"),
            FillError::MarkupInAttribute(name) => write!(f, "markup for {{{{{name}}}}}, which is not a text slot"),
        }
    }
}

impl std::error::Error for FillError {}

impl Template {
    /// Splits `source` into literal text and slots, and finds each slot's context.
    pub fn parse(source: &'static str) -> Result<Template, ParseError> {
        let mut segments = Vec::new();
        let mut scanner = Scanner::default();
        let mut rest = source;
        while let Some(open) = rest.find("{{") {
            let line = source[..source.len() - rest.len() + open].matches('\n').count() + 1;
            let fail = |problem: String| ParseError { line, problem };
            let literal = &rest[..open];
            scanner.feed(literal);
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| fail("`{{` without a closing `}}`".into()))?;
            let name = &after[..close];
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
                return Err(fail(format!("`{{{{{name}}}}}`: a slot name is made of a-z, 0-9 and _")));
            }
            let context = scanner.context().map_err(|place| fail(format!("slot {{{{{name}}}}} is {place}")))?;
            scanner.slot_written();
            if !literal.is_empty() {
                segments.push(Segment::Literal(literal));
            }
            segments.push(Segment::Slot { name, context });
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Literal(rest));
        }
        Ok(Template { segments })
    }

    /// Every slot, in the order it appears, with its context (a name may appear more than once).
    pub fn slots(&self) -> impl Iterator<Item = (&'static str, Context)> + '_ {
        self.segments.iter().filter_map(|segment| match *segment {
            Segment::Slot { name, context } => Some((name, context)),
            Segment::Literal(_) => None,
        })
    }

    /// The names of the slots, each once, in order of first appearance.
    pub fn slot_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        for (name, _) in self.slots() {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// The page: the literal text, and each slot's value escaped for its context. Every slot
    /// needs exactly one value and every value a slot; anything else is an error in our code.
    pub fn fill(&self, values: &[(&str, Value<'_>)]) -> Result<String, FillError> {
        let names = self.slot_names();
        for (i, (name, _)) in values.iter().enumerate() {
            if !names.contains(name) {
                return Err(FillError::Unknown(name.to_string()));
            }
            if values[..i].iter().any(|(earlier, _)| earlier == name) {
                return Err(FillError::Twice(name.to_string()));
            }
        }
        let mut out = String::new();
        for segment in &self.segments {
            match *segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Slot { name, context } => {
                    let value = values.iter().find(|(n, _)| *n == name).ok_or(FillError::Missing(name))?.1;
                    match (context, value) {
                        (Context::Text, Value::Markup(markup)) => out.push_str(&markup.0),
                        (_, Value::Markup(_)) => return Err(FillError::MarkupInAttribute(name)),
                        (Context::Text | Context::Attribute, Value::Plain(text)) => escape_into(&mut out, text),
                        (Context::Url, Value::Plain(url)) => escape_into(&mut out, local_or_fallback(url)),
                    }
                }
            }
        }
        Ok(out)
    }
}

/// `url` if it is a path on this server, else [`FALLBACK_URL`]. A path starts with one `/`:
/// `//host` would go to another site, and a scheme (`javascript:`) cannot come first. Browsers
/// read `\` as `/` and drop tabs and newlines, so those are refused too.
fn local_or_fallback(url: &str) -> &str {
    let local =
        url.starts_with('/') && !url.starts_with("//") && !url.contains('\\') && !url.chars().any(char::is_control);
    if local {
        url
    } else {
        FALLBACK_URL
    }
}

/// Where the scanner is in the HTML.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Place {
    #[default]
    Text,
    /// Between `<` and `>`, outside any attribute value.
    Tag,
    /// In an attribute value in `quote`s; `start` until its first byte.
    Value {
        quote: u8,
        kind: Attribute,
        start: bool,
    },
    /// In an attribute value without quotes.
    Unquoted,
    Comment,
    /// In a `<script>` or `<style>` element, whose content is not HTML.
    RawText,
}

/// What an attribute's value means to the browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attribute {
    Plain,
    /// A URL it follows or loads (see [`URL_ATTRIBUTES`]).
    Url,
    /// Code: event handlers (`onclick`, htmx's `hx-on:click`) and styles. HTML escaping does not
    /// make a value safe there.
    Code,
}

impl Attribute {
    fn of(name: &str) -> Attribute {
        if URL_ATTRIBUTES.contains(&name) {
            Attribute::Url
        } else if name.starts_with("on") || name.starts_with("hx-on") || name == "style" {
            Attribute::Code
        } else {
            Attribute::Plain
        }
    }
}

/// Follows the template's HTML, as much as needed to know each slot's context.
#[derive(Default)]
struct Scanner {
    place: Place,
    /// The current (or last) element's name, lower-cased; `closing` for `</name>`.
    tag: String,
    closing: bool,
    /// The word being read in a tag, and the last attribute name read.
    word: String,
    attribute: String,
    /// Just after `name=`: a value comes next.
    after_equals: bool,
}

impl Scanner {
    /// Reads literal template text, moving from place to place.
    fn feed(&mut self, html: &str) {
        let bytes = html.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let (b, rest) = (bytes[i], &bytes[i..]);
            i += 1;
            match self.place {
                Place::Text if rest.starts_with(b"<!--") => {
                    self.place = Place::Comment;
                    i += 3;
                }
                Place::Text if b == b'<' => self.start_tag(rest.get(1) == Some(&b'/')),
                Place::Comment if rest.starts_with(b"-->") => {
                    self.place = Place::Text;
                    i += 2;
                }
                Place::RawText if closes(rest, &self.tag) => self.place = Place::Text,
                Place::Value { quote, .. } if b == quote => self.place = Place::Tag,
                Place::Value { quote, kind, .. } => self.place = Place::Value { quote, kind, start: false },
                Place::Unquoted if b.is_ascii_whitespace() => self.place = Place::Tag,
                Place::Unquoted if b == b'>' => self.end_tag(),
                Place::Tag => self.tag_byte(b),
                Place::Text | Place::Comment | Place::RawText | Place::Unquoted => {}
            }
        }
    }

    fn start_tag(&mut self, closing: bool) {
        self.place = Place::Tag;
        self.closing = closing;
        self.tag.clear();
        self.word.clear();
        self.attribute.clear();
        self.after_equals = false;
    }

    fn tag_byte(&mut self, b: u8) {
        match b {
            b'"' | b'\'' if self.after_equals => {
                self.place = Place::Value { quote: b, kind: Attribute::of(&self.attribute), start: true };
                self.after_equals = false;
            }
            b'>' => self.end_tag(),
            b'=' => {
                self.end_word();
                self.after_equals = true;
            }
            b'/' => self.end_word(),
            _ if b.is_ascii_whitespace() => self.end_word(),
            _ if self.after_equals => {
                self.place = Place::Unquoted;
                self.after_equals = false;
            }
            _ => self.word.push(b.to_ascii_lowercase() as char),
        }
    }

    /// A tag's first word is the element's name; each later word is an attribute's name.
    fn end_word(&mut self) {
        let word = std::mem::take(&mut self.word);
        if word.is_empty() {
            return;
        }
        if self.tag.is_empty() {
            self.tag = word;
        } else {
            self.attribute = word;
        }
    }

    fn end_tag(&mut self) {
        self.end_word();
        let raw = !self.closing && (self.tag == "script" || self.tag == "style");
        self.place = if raw { Place::RawText } else { Place::Text };
    }

    /// The context of a slot here, or where it is if no escaping can make a value safe there.
    fn context(&self) -> Result<Context, &'static str> {
        match self.place {
            Place::Text => Ok(Context::Text),
            Place::Value { quote: b'\'', .. } => Err("in a single-quoted attribute value: use double quotes"),
            Place::Value { kind: Attribute::Plain, .. } => Ok(Context::Attribute),
            Place::Value { kind: Attribute::Url, start: true, .. } => Ok(Context::Url),
            Place::Value { kind: Attribute::Url, start: false, .. } => {
                Err("inside a URL attribute: a URL slot must be the start of the value")
            }
            Place::Value { kind: Attribute::Code, .. } => Err("in an event handler or style attribute"),
            Place::Tag | Place::Unquoted => Err("inside a tag but not in a double-quoted attribute value"),
            Place::Comment => Err("in a comment"),
            Place::RawText => Err("in a <script> or <style> element"),
        }
    }

    /// A slot's value takes up room: what follows is no longer the start of an attribute value.
    fn slot_written(&mut self) {
        if let Place::Value { quote, kind, .. } = self.place {
            self.place = Place::Value { quote, kind, start: false };
        }
    }
}

/// Whether `rest` starts with the closing tag of element `tag` (`</script`, any case).
fn closes(rest: &[u8], tag: &str) -> bool {
    rest.starts_with(b"</")
        && rest.len() >= 2 + tag.len()
        && rest[2..2 + tag.len()].eq_ignore_ascii_case(tag.as_bytes())
}

#[cfg(test)]
mod tests;
