//! Fuzzes the page's reading of a message's text (`chatroom::protocol::format::format_into`):
//! links, inline code and code blocks, and nothing else.
//!
//! The input is read as UTF-8 (lossily) and formatted, and the output is read back with a strict
//! reader of the little markup the formatter may write. It checks that:
//! - the output is well-formed: only `a`, `code`, `pre` and `button`, each closed and nested as
//!   the formatter nests them (`a` and `code` at the top, or `code` in `pre` after its copy
//!   button; nothing inside `a` or `code`), with exactly their attributes, every value quoted;
//! - every `<`, `>`, `"` and `'` of the input is escaped, and every `&` in the output starts one
//!   of the five entities that `html::escape` writes;
//! - every link opens exactly what it shows, which is an `http://` or `https://` URL taken from
//!   the input, with no space in it and no sentence punctuation at its end;
//! - nothing is lost: the output's text is the input with only backticks taken out, and around
//!   code blocks also the fences' line breaks and language words (and the blanks beside them);
//! - a text with no backtick and no `://` is only escaped (the fast path).
#![no_main]

use chatroom::protocol::format::{format_into, LONGEST_LANG};
use chatroom::protocol::html::escape;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut html = String::new();
    format_into(&mut html, &text);
    let read = Markup::read(&html).unwrap_or_else(|why| panic!("{why}\n input: {text:?}\noutput: {html:?}"));

    assert_eq!(html.matches("&lt;").count(), text.matches('<').count(), "{html:?}");
    assert_eq!(html.matches("&gt;").count(), text.matches('>').count(), "{html:?}");
    if !text.contains('`') {
        assert_eq!(read.text, text, "text lost without code: {html:?}");
        if !text.contains("://") {
            assert_eq!(html, escape(&text), "the fast path is not escaping alone");
        }
    }
    nothing_lost(&text, &read.text, read.blocks > 0);
    for url in &read.links {
        let lower = url.to_ascii_lowercase();
        assert!(lower.starts_with("http://") || lower.starts_with("https://"), "link to {url:?}");
        let scheme = if lower.starts_with("https") { "https://".len() } else { "http://".len() };
        assert!(url.len() > scheme, "a link to no host: {url:?}");
        assert!(!url.contains(char::is_whitespace) && !url.contains(['<', '>', '"', '`']), "{url:?}");
        assert!(!url.ends_with(['.', ',', '!', '?', ':', ';', '\'', '*']), "punctuation at the end of {url:?}");
        assert!(text.contains(url.as_str()), "link {url:?} is not in the input");
    }
});

/// The output's text is the input with only some characters taken out: backticks always;
/// line breaks, blanks and language-word characters only where a code block was made.
fn nothing_lost(input: &str, shown: &str, blocks: bool) {
    let may_go = |c: char| {
        c == '`' || (blocks && (matches!(c, '\n' | ' ' | '\t' | '_' | '+' | '#' | '.' | '-') || c.is_ascii_alphanumeric()))
    };
    // Greedy matching is exact here: when the next input character equals the next shown one,
    // taking it never costs a match later (any later equal character could go instead).
    let mut shown_chars = shown.chars().peekable();
    for c in input.chars() {
        if shown_chars.peek() == Some(&c) {
            shown_chars.next();
        } else {
            assert!(may_go(c), "{c:?} was lost: input {input:?}, shown {shown:?}");
        }
    }
    assert_eq!(shown_chars.next(), None, "text shown that is not in the input {input:?}: {shown:?}");
}

/// What the strict reader found.
#[derive(Default)]
struct Markup {
    /// The text as a browser shows it (entities read, tags left out).
    text: String,
    /// Every link's URL (its `href`, which is also its text).
    links: Vec<String>,
    /// How many code blocks.
    blocks: usize,
}

/// Where the reader is: which elements are open, innermost last.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Open {
    A,
    Code,
    Pre,
    /// Inside a `pre`, after its button.
    PreAfterButton,
    /// Inside a `pre`, after its code: only `</pre>` may come.
    PreDone,
}

impl Markup {
    fn read(html: &str) -> Result<Markup, String> {
        let mut read = Markup::default();
        let mut open: Vec<Open> = Vec::new();
        let mut link_text = String::new();
        let mut link_href = String::new();
        let mut rest = html;
        while let Some(c) = rest.chars().next() {
            match c {
                '<' => {
                    let end = rest.find('>').ok_or("a '<' that opens no tag")?;
                    let tag = &rest[1..end];
                    rest = &rest[end + 1..];
                    let top = open.last().copied();
                    match tag {
                        "/a" if top == Some(Open::A) => {
                            open.pop();
                            if link_text != link_href {
                                return Err(format!("link to {link_href:?} shows {link_text:?}"));
                            }
                            read.links.push(std::mem::take(&mut link_text));
                        }
                        "code" if top.is_none() => open.push(Open::Code),
                        "code" if top == Some(Open::PreAfterButton) => {
                            *open.last_mut().unwrap() = Open::PreDone;
                            open.push(Open::Code);
                        }
                        "/code" if top == Some(Open::Code) => {
                            open.pop();
                        }
                        r#"button type="button" class="copy" aria-label="Copy code""# if top == Some(Open::Pre) => {
                            if !rest.starts_with("</button>") {
                                return Err("a copy button with something in it".into());
                            }
                            rest = &rest["</button>".len()..];
                            *open.last_mut().unwrap() = Open::PreAfterButton;
                        }
                        "/pre" if top == Some(Open::PreDone) => {
                            open.pop();
                            read.blocks += 1;
                        }
                        _ if top.is_none() && tag.starts_with("a ") => {
                            link_href = link_attributes(tag)?;
                            open.push(Open::A);
                        }
                        _ if top.is_none() && (tag == "pre" || tag.starts_with("pre ")) => {
                            if let Some(attribute) = tag.strip_prefix("pre ") {
                                let lang = attribute
                                    .strip_prefix("data-lang=\"")
                                    .and_then(|v| v.strip_suffix('"'))
                                    .ok_or_else(|| format!("pre with {attribute:?}"))?;
                                let fits = |b: u8| b.is_ascii_alphanumeric() || b"_+#.-".contains(&b);
                                if lang.is_empty() || lang.len() > LONGEST_LANG || !lang.bytes().all(fits) {
                                    return Err(format!("language word {lang:?}"));
                                }
                            }
                            open.push(Open::Pre);
                        }
                        _ => return Err(format!("tag <{tag}> where {top:?} is open")),
                    }
                }
                '&' => {
                    let (entity, c) = entity(rest).ok_or("a bare '&'")?;
                    rest = &rest[entity..];
                    read.push(c, &open, &mut link_text)?;
                }
                '>' | '"' | '\'' => return Err(format!("a raw {c:?} in text")),
                c => {
                    rest = &rest[c.len_utf8()..];
                    read.push(c, &open, &mut link_text)?;
                }
            }
        }
        if !open.is_empty() {
            return Err(format!("left open: {open:?}"));
        }
        Ok(read)
    }

    /// A character of text, shown in whatever is open.
    fn push(&mut self, c: char, open: &[Open], link_text: &mut String) -> Result<(), String> {
        match open.last() {
            None | Some(Open::Code) => {}
            Some(Open::A) => link_text.push(c),
            Some(other) => return Err(format!("text {c:?} in {other:?} outside its code")),
        }
        self.text.push(c);
        Ok(())
    }
}

/// The `href` of an `<a ...>` tag that has exactly the attributes every link has, unescaped.
fn link_attributes(tag: &str) -> Result<String, String> {
    let value = tag
        .strip_prefix("a href=\"")
        .and_then(|t| t.strip_suffix(r#"" rel="noopener noreferrer nofollow" target="_blank""#))
        .ok_or_else(|| format!("link tag <{tag}>"))?;
    let mut href = String::new();
    let mut rest = value;
    while let Some(c) = rest.chars().next() {
        match c {
            '&' => {
                let (len, c) = entity(rest).ok_or("a bare '&' in an href")?;
                href.push(c);
                rest = &rest[len..];
            }
            '"' | '<' | '>' | '\'' => return Err(format!("a raw {c:?} in an href")),
            c => {
                href.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    Ok(href)
}

/// The entity `html::escape` writes at the start of `text`: its length and its character.
fn entity(text: &str) -> Option<(usize, char)> {
    [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>'), ("&quot;", '"'), ("&#39;", '\'')]
        .into_iter()
        .find(|(e, _)| text.starts_with(e))
        .map(|(e, c)| (e.len(), c))
}
