//! The template engine on small templates made for each case.

use super::*;

fn parse(source: &'static str) -> Template {
    Template::parse(source).unwrap_or_else(|e| panic!("{source:?}: {e}"))
}

fn fill(template: &Template, values: &[(&str, Value<'_>)]) -> String {
    template.fill(values).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn contexts_come_from_where_the_slot_stands() {
    let template = parse(concat!(
        "<!doctype html><title>#{{a}} · x</title>\n",
        r#"<meta name="htmx-config" content='{"x":1}'>"#,
        r#"<p class="{{b}}" data-x="pre {{c}}">{{d}}</p>"#,
        r#"<a href="{{e}}">{{f}}</a><form action="{{g}}"><main ws-connect="{{h}}" hx-ext="ws">"#,
        r#"<input value="{{i}}" maxlength="{{j}}"><img src="{{k}}" alt="{{l}}"><button hx-get="{{m}}"></button>"#,
        r#"<script src="/x.js"></script><style></style><!-- > --><b title=">">{{n}}</b>"#,
    ));
    let got: Vec<_> = template.slots().collect();
    use Context::*;
    let want = [
        ("a", Text),
        ("b", Attribute),
        ("c", Attribute),
        ("d", Text),
        ("e", Url),
        ("f", Text),
        ("g", Url),
        ("h", Url),
        ("i", Attribute),
        ("j", Attribute),
        ("k", Url),
        ("l", Attribute),
        ("m", Url),
        ("n", Text),
    ];
    assert_eq!(got, want);
    assert_eq!(template.slot_names(), ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n"]);
}

#[test]
fn slots_where_escaping_cannot_help_are_refused() {
    for (source, why) in [
        ("<p>{{a}", "without a closing"),
        ("<p>{{a}}</p>\n<p>{{", "without a closing"),
        ("<p>{{ a }}</p>", "a slot name"),
        ("<p>{{}}</p>", "a slot name"),
        ("<p {{a}}>", "inside a tag"),
        ("<p class={{a}}>", "inside a tag"),
        ("<p class='{{a}}'>", "single-quoted"),
        (r#"<a href="/r/{{a}}">"#, "start of the value"),
        (r#"<b onclick="go('{{a}}')">"#, "event handler"),
        (r#"<b hx-on:click="{{a}}">"#, "event handler"),
        (r#"<b style="color: {{a}}">"#, "style"),
        ("<script>let a = '{{a}}';</script>", "<script>"),
        ("<STYLE>b { color: {{a}} }</style>", "<script>"),
        ("<!-- {{a}} -->", "comment"),
    ] {
        let error = Template::parse(source).expect_err(source);
        assert!(error.problem.contains(why), "{source:?}: {error}");
    }
    assert_eq!(Template::parse("<p>\n\n{{a</p>").unwrap_err().line, 3);
}

#[test]
fn a_value_that_looks_like_a_slot_stays_literal() {
    let template = parse(r#"<title>{{room}}</title><input value="{{name}}"><ul>{{rooms}}</ul>"#);
    let list = Markup::trusted("<li>lobby</li>".into());
    let page = fill(
        &template,
        &[
            ("room", Value::Plain("{{rooms}}")),
            ("name", Value::Plain("{{room}} {{rooms}}")),
            ("rooms", Value::Markup(&list)),
        ],
    );
    assert_eq!(
        page, r#"<title>{{rooms}}</title><input value="{{room}} {{rooms}}"><ul><li>lobby</li></ul>"#,
        "each value is written once and never scanned again"
    );
}

#[test]
fn every_context_escapes() {
    let template = parse(r#"<p title="{{a}}">{{b}}</p><a href="{{c}}">"#);
    let hostile = r#"<b x='1' y="2">&amp;</b>"#;
    let escaped = "&lt;b x=&#39;1&#39; y=&quot;2&quot;&gt;&amp;amp;&lt;/b&gt;";
    let page =
        fill(&template, &[("a", Value::Plain(hostile)), ("b", Value::Plain(hostile)), ("c", Value::Plain("/r/x"))]);
    assert_eq!(page, format!(r#"<p title="{escaped}">{escaped}</p><a href="/r/x">"#));
    let url =
        fill(&template, &[("a", Value::Plain("")), ("b", Value::Plain("")), ("c", Value::Plain(r#"/h?a=1&b="2"<x>"#))]);
    assert!(url.ends_with(r#"<a href="/h?a=1&amp;b=&quot;2&quot;&lt;x&gt;">"#), "{url}");
}

#[test]
fn a_url_slot_takes_local_paths_only() {
    let template = parse(r#"<a href="{{u}}">"#);
    let link = |url: &str| fill(&template, &[("u", Value::Plain(url))]);
    for good in ["/", "/r/kitchen", "/connect?name=ann%20b", "/r/x#top"] {
        assert_eq!(link(good), format!(r#"<a href="{good}">"#));
    }
    for bad in [
        "javascript:alert(1)",
        " /r/x",
        "//evil.example/",
        "/\\evil.example",
        "https://evil.example",
        "/r/x\n",
        "/\tx",
        "r/x",
        "",
        "data:text/html,<b>",
    ] {
        assert_eq!(link(bad), format!(r#"<a href="{FALLBACK_URL}">"#), "{bad:?}");
    }
}

#[test]
fn markup_goes_into_text_slots_only() {
    let markup = Markup::trusted("<b>ours</b>".into());
    let text = parse("<p>{{a}}</p>");
    assert_eq!(fill(&text, &[("a", Value::Markup(&markup))]), "<p><b>ours</b></p>");
    for source in [r#"<p title="{{a}}">"#, r#"<a href="{{a}}">"#] {
        let attribute = parse(source);
        assert_eq!(attribute.fill(&[("a", Value::Markup(&markup))]), Err(FillError::MarkupInAttribute("a")));
    }
}

#[test]
fn every_slot_needs_exactly_one_value() {
    let template = parse("<p>{{a}} {{b}} {{a}}</p>");
    assert_eq!(template.fill(&[("a", Value::Plain("1"))]), Err(FillError::Missing("b")));
    let unknown = template.fill(&[("a", Value::Plain("1")), ("b", Value::Plain("2")), ("c", Value::Plain("3"))]);
    assert_eq!(unknown, Err(FillError::Unknown("c".into())));
    let twice = template.fill(&[("a", Value::Plain("1")), ("b", Value::Plain("2")), ("a", Value::Plain("3"))]);
    assert_eq!(twice, Err(FillError::Twice("a".into())));
    assert_eq!(fill(&template, &[("b", Value::Plain("2")), ("a", Value::Plain("1"))]), "<p>1 2 1</p>");
}
