//! The formatter, case by case: what becomes markup, and the hostile texts that must not.

use super::*;
use crate::protocol::html::escape;

fn format(text: &str) -> String {
    let mut out = String::new();
    format_into(&mut out, text);
    out
}

/// The markup of a link to `url`, as it is written in the text.
fn link(url: &str) -> String {
    let url = escape(url);
    format!(r#"<a href="{url}" rel="noopener noreferrer nofollow" target="_blank">{url}</a>"#)
}

/// The markup of a code block.
fn block(lang: Option<&str>, code: &str) -> String {
    let lang = lang.map_or(String::new(), |l| format!(r#" data-lang="{l}""#));
    format!(
        r#"<pre{lang}><button type="button" class="copy" aria-label="Copy code"></button><code>{code}</code></pre>"#
    )
}

#[test]
fn plain_text_is_only_escaped() {
    for text in ["hello", "a: b", "12:30 at the café", "<b>x</b> & 'y' \"z\"", "", "ends with :", "://"] {
        assert_eq!(format(text), escape(text), "{text:?}");
    }
    assert!(is_plain(b"a: b // c"));
    assert!(!is_plain(b"x://"));
    assert!(!is_plain(b"`"));
}

#[test]
fn urls_become_links_after_escaping() {
    assert_eq!(
        format("see https://example.org/a?b=1&c=2 now"),
        format!("see {} now", link("https://example.org/a?b=1&c=2"))
    );
    assert!(format("x https://example.org/a?b=1&c=2").contains(r#"href="https://example.org/a?b=1&amp;c=2""#));
    assert_eq!(format("http://127.0.0.1:8080/r/x"), link("http://127.0.0.1:8080/r/x"));
    assert_eq!(format("HTTPS://EXAMPLE.ORG"), link("HTTPS://EXAMPLE.ORG"));
    assert_eq!(format("http://[::1]:80/"), link("http://[::1]:80/"));
    assert_eq!(
        format("a https://x.org b http://y.org"),
        format!("a {} b {}", link("https://x.org"), link("http://y.org"))
    );
    // Written right after CJK text, with no space: still a link.
    assert_eq!(format("見てhttps://example.jp"), format!("見て{}", link("https://example.jp")));
    // Over several lines.
    assert_eq!(format("one\nhttps://x.org\ntwo"), format!("one\n{}\ntwo", link("https://x.org")));
}

#[test]
fn only_http_and_https_are_links() {
    for text in [
        "javascript:alert(1)",
        "javascript://%0Aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "ftp://example.org",
        "file:///etc/passwd",
        "xhttp://example.org",
        "myhttps://example.org",
        "https://",
        "http://.",
        "http:// example.org",
        "http:/example.org",
        "https:example.org",
        "www.example.org",
    ] {
        assert!(!format(text).contains("<a"), "{text:?}: {}", format(text));
        assert_eq!(format(text), escape(text), "{text:?}");
    }
    // A URL after another scheme's colon is still only the http URL.
    assert_eq!(format("javascript:https://x.org"), format!("javascript:{}", link("https://x.org")));
}

#[test]
fn trailing_punctuation_stays_outside() {
    for (text, url, after) in [
        ("https://x.org.", "https://x.org", "."),
        ("https://x.org/a,", "https://x.org/a", ","),
        ("https://x.org/a!?", "https://x.org/a", "!?"),
        ("https://x.org/a:", "https://x.org/a", ":"),
        ("https://x.org/a;", "https://x.org/a", ";"),
        ("https://x.org/a'", "https://x.org/a", "&#39;"),
        ("https://x.org/a...", "https://x.org/a", "..."),
        ("https://x.org/東京。", "https://x.org/東京", "。"),
        ("https://x.org/a)", "https://x.org/a", ")"),
        ("https://x.org/a]", "https://x.org/a", "]"),
        ("https://x.org/a).", "https://x.org/a", ")."),
        ("https://x.org/Foo_(bar)", "https://x.org/Foo_(bar)", ""),
        ("https://x.org/Foo_(bar)).", "https://x.org/Foo_(bar)", ")."),
        ("https://x.org/a[1]", "https://x.org/a[1]", ""),
        ("https://x.org/a.b", "https://x.org/a.b", ""),
    ] {
        assert_eq!(format(text), format!("{}{after}", link(url)), "{text:?}");
    }
    assert_eq!(
        format("(see https://en.wikipedia.org/wiki/Foo_(bar))."),
        format!("(see {}).", link("https://en.wikipedia.org/wiki/Foo_(bar)"))
    );
    assert_eq!(format("<https://x.org>"), format!("&lt;{}&gt;", link("https://x.org")));
    assert_eq!(format("\"https://x.org\""), format!("&quot;{}&quot;", link("https://x.org")));
}

#[test]
fn hostile_urls_cannot_leave_the_attribute() {
    // A quote ends the URL: it can never close the href.
    assert_eq!(
        format(r#"https://x/"onmouseover=alert(1) x"#),
        format!("{}&quot;onmouseover=alert(1) x", link("https://x/"))
    );
    let apostrophe = format("https://x/'onmouseover='alert(1)'");
    assert_eq!(apostrophe, format!("{}&#39;", link("https://x/'onmouseover='alert(1)")));
    assert!(apostrophe.contains(r#"href="https://x/&#39;onmouseover=&#39;alert(1)""#));
    assert_eq!(
        format("https://x/<script>alert(1)</script>"),
        format!("{}&lt;script&gt;alert(1)&lt;/script&gt;", link("https://x/"))
    );
    // `&amp;` typed stays `&amp;` to read, in the text and in the link.
    assert_eq!(format("a &amp; b"), "a &amp;amp; b");
    assert!(format("https://x/?a=1&amp;b=2").contains(r#"href="https://x/?a=1&amp;amp;b=2""#));
    // A bidi override or a zero-width space ends a link: its text reads as what it opens.
    assert_eq!(format("https://good.org\u{202E}gro.live"), format!("{}\u{202E}gro.live", link("https://good.org")));
    assert_eq!(format("https://a.org\u{200B}b"), format!("{}\u{200B}b", link("https://a.org")));
}

#[test]
fn inline_code() {
    assert_eq!(format("run `ls -l` now"), "run <code>ls -l</code> now");
    assert_eq!(format("`<script>` & `'`"), "<code>&lt;script&gt;</code> &amp; <code>&#39;</code>");
    assert_eq!(format("``a ` b``"), "<code>a ` b</code>");
    assert_eq!(format("`a``b`"), "<code>a``b</code>");
    assert_eq!(format("say ```x``` here"), "say <code>x</code> here");
    // Nothing is linked inside code.
    assert_eq!(format("`https://x.org`"), "<code>https://x.org</code>");
    // Unpartnered runs stay text.
    for text in ["`", "``", "a ` b", "`a``", "``a`", "`a\nb`", "it`s"] {
        assert_eq!(format(text), escape(text), "{text:?}");
    }
    assert_eq!(format("`a` ` `b`"), "<code>a</code> <code> </code>b`");
    let long = "`".repeat(LONGEST_RUN + 1);
    assert_eq!(format(&format!("{long}x{long}")), escape(&format!("{long}x{long}")));
}

#[test]
fn code_blocks() {
    assert_eq!(format("```\nfn main() {}\n```"), block(None, "fn main() {}"));
    assert_eq!(format("```rust\nlet a = b < c;\n```"), block(Some("rust"), "let a = b &lt; c;"));
    assert_eq!(format("``` c++ \nx\n```"), block(Some("c++"), "x"));
    // The code keeps its lines, indentation and blank lines; nothing in it is linked or escaped
    // twice.
    assert_eq!(format("```\n  a\n\n\tb https://x.org `c`\n```"), block(None, "  a\n\n\tb https://x.org `c`"));
    // Text around it: the line breaks next to the fences belong to the block.
    assert_eq!(format("look:\n```\nx\n```\nthen"), format!("look:{}then", block(None, "x")));
    assert_eq!(format("a\n\n```\nx\n```\n\nb"), format!("a\n{}\nb", block(None, "x")));
    // At the start, on one line; and closed at the end of the code.
    assert_eq!(format("```x = 1```"), block(None, "x = 1"));
    assert_eq!(format("```\nx = 1```"), block(None, "x = 1"));
    assert_eq!(format("```py\nx```rest"), format!("{}rest", block(Some("py"), "x")));
    // Not a language word: the code starts after the fence.
    assert_eq!(format("```rust ignore\nx\n```"), block(None, "rust ignore\nx"));
    assert_eq!(format("```<b>\nx\n```"), block(None, "&lt;b&gt;\nx"));
    // Two blocks, back to back.
    assert_eq!(format("```\na\n```\n```\nb\n```"), format!("{}{}", block(None, "a"), block(None, "b")));
    // Links and code around a block.
    assert_eq!(
        format("`a` https://x.org\n```\nb\n```\nhttps://y.org"),
        format!("<code>a</code> {}{}{}", link("https://x.org"), block(None, "b"), link("https://y.org"))
    );
}

#[test]
fn fences_that_are_not_blocks_stay_text() {
    for text in ["```", "```\ncode", "```rust\nfn x()", "```\n```", "a\n```\nno end", "````\nx\n````"] {
        assert!(!format(text).contains("<pre"), "{text:?}: {}", format(text));
    }
    assert_eq!(format("```\ncode"), escape("```\ncode"));
    assert_eq!(format("```\n```"), escape("```\n```"));
    // An unclosed fence still lets the rest be read.
    assert_eq!(
        format("```\nsee `x` at https://x.org"),
        format!("```\nsee <code>x</code> at {}", link("https://x.org"))
    );
}

#[test]
fn non_ascii_text_and_urls() {
    assert_eq!(format("`日本語` ✓"), "<code>日本語</code> ✓");
    assert_eq!(
        format("https://ja.wikipedia.org/wiki/東京 ok"),
        format!("{} ok", link("https://ja.wikipedia.org/wiki/東京"))
    );
    assert_eq!(format("```\nпривет 😀\n```"), block(None, "привет 😀"));
    assert_eq!(format("é`é`é"), "é<code>é</code>é");
    // A non-breaking or ideographic space ends a URL too.
    assert_eq!(format("https://x.org\u{a0}y"), format!("{}\u{a0}y", link("https://x.org")));
    assert_eq!(format("https://x.org\u{3000}y"), format!("{}\u{3000}y", link("https://x.org")));
}

/// Texts built to make a naive reader quadratic: every search is bounded and remembers its
/// failures. (Correctness only: how long it takes is the benchmark's business.)
#[test]
fn very_long_texts() {
    // Lines of runs of every length, none with a partner on its line.
    let line: String = (1..=LONGEST_RUN + 3).map(|n| format!("{}a", "`".repeat(n))).collect();
    let runs = vec![line; 200].join("\n");
    assert!(format(&runs) == escape(&runs), "runs without partners");
    let fences = "\n```x".repeat(20_000);
    assert!(format(&fences) == escape(&fences), "fences without code");
    let opens = "(".repeat(30_000);
    let url = format!("https://x.org/{opens}{}", ")".repeat(30_000));
    assert!(format(&format!("{url}))")) == format!("{}))", link(&url)), "unbalanced parentheses");
    let not_urls = "http://.".repeat(10_000);
    assert!(format(&not_urls) == escape(&not_urls), "schemes without hosts");
    let schemes = "http://".repeat(10_000);
    assert!(format(&schemes).starts_with("<a href=\"http://http://"));
    let many = "`x` https://x.org ".repeat(5_000);
    let formatted = format(&many);
    assert_eq!(formatted.matches("<code>").count(), 5_000);
    assert_eq!(formatted.matches("<a ").count(), 5_000);
}

/// Every `<` of the input is escaped, whatever else happens: the output holds exactly as many
/// `&lt;` as the input holds `<`, over many generated texts of the characters that matter.
#[test]
fn every_angle_bracket_is_escaped() {
    let pieces =
        ["`", "```", "\n", "<", ">", "&", "\"", "'", "https://", "http://x", ".", ")", "(", " ", "a", "é", "rust"];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..5_000 {
        let mut text = String::new();
        for _ in 0..12 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            text.push_str(pieces[(state % pieces.len() as u64) as usize]);
        }
        let html = format(&text);
        assert_eq!(html.matches("&lt;").count(), text.matches('<').count(), "{text:?} → {html}");
        assert_eq!(html.matches("&gt;").count(), text.matches('>').count(), "{text:?} → {html}");
        assert_eq!(html.matches("<a ").count(), html.matches("</a>").count(), "{text:?} → {html}");
        assert_eq!(html.matches("<pre").count(), html.matches("</pre>").count(), "{text:?} → {html}");
        assert_eq!(html.matches("<code>").count(), html.matches("</code>").count(), "{text:?} → {html}");
    }
}
