//! A chat message's text as the page shows it: links and code, and nothing else.
//!
//! The text is escaped first, and only three things in it become markup:
//!
//! - **links**: `http://` and `https://` URLs (scheme in any case) become
//!   `<a href="URL" rel="noopener noreferrer nofollow" target="_blank">URL</a>`. A URL starts at
//!   its scheme, which must not follow an ASCII letter or digit, and runs to the first space, control
//!   character, `<`, `>`, `"`, `` ` `` or invisible formatting character (a bidi override, a
//!   zero-width space: the link must read as what it opens); something must follow the `//`, and
//!   trailing punctuation is left outside (`.` `,` `!` `?` `:` `;` `'` `*` and their CJK forms,
//!   and a `)` or `]` without its opening partner in the URL: `(see https://w.org/Foo_(bar)).`
//!   links `https://w.org/Foo_(bar)`). No other scheme is ever a link: `javascript:` and `data:`
//!   stay text, because only the literal prefixes `http://` and `https://` are looked for.
//! - **inline code**: a run of backticks, the text after it, and the next run of exactly as many
//!   backticks on the same line: `` `x` `` or ``` ``a ` b`` ``` becomes `<code>`. A run of more
//!   than [`LONGEST_RUN`] backticks, or one without its partner, stays text.
//! - **code blocks**: exactly three backticks at the start of a line open a block, which runs to
//!   the next run of exactly three backticks (on its own line, or at the end of the code).
//!   A language word may follow the opening fence on its line (`` ```rust ``); it is kept as
//!   `data-lang` and never interpreted. Without a line break after the opening fence and its word,
//!   the code starts right after the fence (`` ```x = 1``` `` at the start of a line). The block
//!   is `<pre><button class="copy" ...></button><code>...</code></pre>`: the button has no text
//!   (its label is `aria-label`, drawn by the style sheet), so the block's text is the code alone.
//!   The line breaks just around the block are the block's own and are not kept as text. A fence
//!   with no closing fence, or with nothing between them, stays text.
//!
//! Inside code, nothing is linked. Nothing else is markup: no HTML, no images, no other
//! markdown. The JSON dialect carries the raw text; this is the page's reading of it.
//!
//! It runs once per relayed message per dialect present (a relay encodes once, never per member),
//! so it is in the CPU cost of every delivery: a text with no backtick and no `://` takes the
//! fast path, which is [`escape_into`] alone. Every search runs forward and is bounded, so the
//! whole is linear in the text, whatever the text holds.

use super::escape::escape_into;

/// What follows a link's `href` value: the end of it, then the attributes. A new tab, which learns nothing of the page that opened
/// it (`noopener`: no `window.opener`; `noreferrer`: no `Referer`, which would name a private
/// room), and no endorsement for search engines (`nofollow`).
const LINK_ATTRIBUTES: &str = r#"" rel="noopener noreferrer nofollow" target="_blank">"#;

/// What opens a code block's markup, after `<pre>` (or `<pre data-lang="...">`).
const BLOCK_START: &str = r#"<button type="button" class="copy" aria-label="Copy code"></button><code>"#;

/// The backticks of a code block's fence.
const FENCE: usize = 3;

/// The longest run of backticks that can open inline code; longer runs stay text.
pub const LONGEST_RUN: usize = 32;

/// The longest language word after an opening fence.
pub const LONGEST_LANG: usize = 32;

/// Appends `text` to `out` as the page shows a message's text: HTML-escaped, with links, inline
/// code and code blocks as markup (see the module's documentation).
///
/// ```
/// use chatroom::protocol::format::format_into;
///
/// let mut html = String::new();
/// format_into(&mut html, "try `ls -l` <now>: https://example.org/a_(b).");
/// assert_eq!(
///     html,
///     concat!(
///         "try <code>ls -l</code> &lt;now&gt;: ",
///         r#"<a href="https://example.org/a_(b)" rel="noopener noreferrer nofollow" target="_blank">"#,
///         "https://example.org/a_(b)</a>."
///     )
/// );
/// ```
pub fn format_into(out: &mut String, text: &str) {
    if is_plain(text.as_bytes()) {
        escape_into(out, text);
        return;
    }
    let bytes = text.as_bytes();
    let mut closers = Closers::new();
    // `written`: where the text not yet written out starts; `i`: where we are looking.
    let mut written = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let run = run_at(bytes, i);
        if run == FENCE && (i == 0 || bytes[i - 1] == b'\n') {
            if let Some(block) = closers.block(text, i) {
                // The line break before the fence is the block's own (unless a block before
                // took it already).
                links_into(out, &text[written..if i > written { i - 1 } else { i }]);
                block.write(out);
                i = block.end;
                written = i;
                continue;
            }
        }
        if let Some(close) = closers.span(bytes, i + run, run) {
            links_into(out, &text[written..i]);
            out.push_str("<code>");
            escape_into(out, &text[i + run..close]);
            out.push_str("</code>");
            i = close + run;
            written = i;
            continue;
        }
        i += run;
    }
    links_into(out, &text[written..]);
}

/// Whether `text` holds nothing to format: no backtick, no `://`.
fn is_plain(text: &[u8]) -> bool {
    !text.iter().enumerate().any(|(i, &b)| b == b'`' || (b == b':' && text[i + 1..].starts_with(b"//")))
}

/// How many backticks start at `i` (the run is whole: the caller starts at its first).
fn run_at(bytes: &[u8], i: usize) -> usize {
    bytes[i..].iter().take_while(|&&b| b == b'`').count()
}

/// The first run of exactly `len` backticks in `bytes[from..to]`: its start.
fn find_run(bytes: &[u8], from: usize, to: usize, len: usize) -> Option<usize> {
    let mut i = from;
    while i < to {
        if bytes[i] == b'`' {
            let run = run_at(bytes, i);
            if run == len {
                return Some(i);
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

/// Searches for closing runs that remember their failures, so that text full of runs without a
/// partner is still read in linear time: a search that failed from some point fails from any
/// later point too, as long as its region (the rest of the line, or of the text) is the same.
struct Closers {
    /// For each run length, the end of the line on which a search for it failed.
    span_failed_until: [usize; LONGEST_RUN + 1],
    /// A search for a closing fence failed: none is left in the text.
    no_fence_left: bool,
    /// The end of the line last searched (the first `\n` at or after where it was searched
    /// from, or the end of the text): a text of one long line is then scanned for it once.
    line_end: usize,
}

impl Closers {
    fn new() -> Closers {
        Closers { span_failed_until: [0; LONGEST_RUN + 1], no_fence_left: false, line_end: 0 }
    }

    /// Where the inline code opened by a run of `run` backticks ending at `from` closes: the
    /// start of the next run of exactly as many on the same line.
    fn span(&mut self, bytes: &[u8], from: usize, run: usize) -> Option<usize> {
        if run > LONGEST_RUN || from < self.span_failed_until[run] {
            return None;
        }
        // Searches only move forward, and start after a backtick (never at 0).
        if from > self.line_end {
            self.line_end = bytes[from..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |n| from + n);
        }
        let line_end = self.line_end;
        let found = find_run(bytes, from, line_end, run);
        if found.is_none() {
            self.span_failed_until[run] = line_end;
        }
        found
    }

    /// The code block whose opening fence starts at `i` (three backticks at the start of a line),
    /// if it has a closing fence and code between them.
    fn block<'t>(&mut self, text: &'t str, i: usize) -> Option<Block<'t>> {
        if self.no_fence_left {
            return None;
        }
        let bytes = text.as_bytes();
        let after = i + FENCE;
        let line_end = bytes[after..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |n| after + n);
        let word = text[after..line_end].trim_matches([' ', '\t']);
        let (lang, start) = if line_end < bytes.len() && is_lang(word) {
            ((!word.is_empty()).then_some(word), line_end + 1)
        } else {
            (None, after)
        };
        let Some(close) = find_run(bytes, start, bytes.len(), FENCE) else {
            self.no_fence_left = true;
            return None;
        };
        let code_end = if close > start && bytes[close - 1] == b'\n' { close - 1 } else { close };
        if code_end == start {
            return None;
        }
        let end = close + FENCE;
        let end = if bytes.get(end) == Some(&b'\n') { end + 1 } else { end };
        Some(Block { lang, code: &text[start..code_end], end })
    }
}

/// Whether `word` may be a code block's language word (or is empty): letters, digits and
/// `_ + # . -`, as in `c++`, `c#` or `shell-session`.
fn is_lang(word: &str) -> bool {
    word.len() <= LONGEST_LANG && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"_+#.-".contains(&b))
}

/// A code block found in the text.
struct Block<'t> {
    /// The language word after the opening fence, if any.
    lang: Option<&'t str>,
    /// The code, without the fences and the line breaks next to them.
    code: &'t str,
    /// Where the text after the block starts (after the closing fence and its line break).
    end: usize,
}

impl Block<'_> {
    fn write(&self, out: &mut String) {
        out.push_str("<pre");
        if let Some(lang) = self.lang {
            out.push_str(r#" data-lang=""#);
            escape_into(out, lang);
            out.push('"');
        }
        out.push('>');
        out.push_str(BLOCK_START);
        escape_into(out, self.code);
        out.push_str("</code></pre>");
    }
}

/// Appends `text` (no code in it) escaped, with its URLs as links.
fn links_into(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut written = 0;
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let colon = from + found;
        from = colon + 3;
        let start = if colon >= 5 && bytes[colon - 5..colon].eq_ignore_ascii_case(b"https") {
            colon - 5
        } else if colon >= 4 && bytes[colon - 4..colon].eq_ignore_ascii_case(b"http") {
            colon - 4
        } else {
            continue;
        };
        // `xhttp://` is not a URL; `(http://`, `:http://` and `見てhttp://` are.
        if start < written || text[..start].ends_with(|c: char| c.is_ascii_alphanumeric()) {
            continue;
        }
        // Something must follow the `//`: a host name or an IPv6 address. (Trimming never takes
        // a letter or digit, so the link is never empty; and nothing is scanned for a URL that
        // is not one, so `http://.http://.` repeated costs no more than its length.)
        if !text[from..].starts_with(|c: char| c.is_alphanumeric() || c == '[') {
            continue;
        }
        let end = trim_end(text, start, url_end(text, from));
        escape_into(out, &text[written..start]);
        let url = &text[start..end];
        out.push_str(r#"<a href=""#);
        escape_into(out, url);
        out.push_str(LINK_ATTRIBUTES);
        escape_into(out, url);
        out.push_str("</a>");
        written = end;
        from = end;
    }
    escape_into(out, &text[written..]);
}

/// Where a URL whose scheme ends before `from` stops: at the first character that cannot be in
/// one, as written in a chat.
fn url_end(text: &str, from: usize) -> usize {
    text[from..]
        .find(|c: char| c.is_whitespace() || c.is_control() || "<>\"`".contains(c) || is_invisible(c))
        .map_or(text.len(), |n| from + n)
}

/// Characters that change how text around them shows without showing themselves: bidi controls,
/// zero-width characters, the byte order mark. A link stops at them, so that its text reads as
/// what it opens.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
}

/// `text[start..end]`, a URL as found, without the punctuation that ends the sentence around it
/// rather than the URL: its new end.
fn trim_end(text: &str, start: usize, mut end: usize) -> usize {
    let url = &text[start..end];
    let count = |c: u8| url.bytes().filter(|&b| b == c).count();
    let (mut parens, mut brackets) =
        (count(b'(') as isize - count(b')') as isize, count(b'[') as isize - count(b']') as isize);
    while let Some(last) = text[start..end].chars().next_back() {
        match last {
            '.' | ',' | '!' | '?' | ':' | ';' | '\'' | '*' | '。' | '、' | '，' | '！' | '？' | '：' | '；' => {}
            // A closing bracket with no opening partner in the URL closes the text around it.
            ')' if parens < 0 => parens += 1,
            ']' if brackets < 0 => brackets += 1,
            _ => break,
        }
        end -= last.len_utf8();
    }
    end
}

#[cfg(test)]
mod tests;
