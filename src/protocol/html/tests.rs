//! The page's fragments, checked piece by piece.

use super::*;
use crate::protocol::{Change, Dialect};

fn msg(text: &str) -> ChatMessage {
    ChatMessage {
        seq: 7,
        ts: 1_764_190_800_123,
        name: "<ann>".into(),
        text: text.into(),
        mentions: vec![],
        ..ChatMessage::default()
    }
}

fn page(event: &ServerEvent<'_>) -> String {
    let html = fragment("x", event);
    assert_eq!(Dialect::Html.frames("x", event), EncodedFrame::text(&html), "one frame holds the fragment");
    html
}

#[test]
fn escapes_markup_and_quotes() {
    assert_eq!(
        escape(r#"<script>alert("x&y")</script>'"#),
        "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;&#39;"
    );
    assert_eq!(escape("plain ünïcode ✓"), "plain ünïcode ✓");
}

#[test]
fn a_message_appends_one_item_out_of_band() {
    assert_eq!(
        page(&ServerEvent::Message(&msg("<b>hi</b>"))),
        concat!(
            r#"<ul id="messages" hx-swap-oob="beforeend"><li class="message" data-seq="7" data-name="&lt;ann&gt;">"#,
            r#"<time datetime="2025-11-26T21:00:00.123Z">21:00 UTC</time> <b class="name">&lt;ann&gt;</b> "#,
            r#"<span class="text">&lt;b&gt;hi&lt;/b&gt;</span></li></ul>"#
        )
    );
}

#[test]
fn the_text_is_formatted_and_the_name_is_not() {
    let mut said = msg("see `x` at https://x.org");
    said.name = "`ann` https://y.org".into();
    let mut item = String::new();
    message_item(&mut item, &said);
    assert!(item.contains(r#"data-name="`ann` https://y.org"><time"#), "{item}");
    assert!(item.contains(r#"<b class="name">`ann` https://y.org</b>"#), "{item}");
    assert!(item.contains(concat!(
        r#"<span class="text">see <code>x</code> at <a href="https://x.org" "#,
        r#"rel="noopener noreferrer nofollow" target="_blank">https://x.org</a></span></li>"#
    )));
}

#[test]
fn the_welcome_replaces_the_list() {
    let history = [msg("hello")];
    let roster = Roster { names: &["<ann>", "bob"], count: 2 };
    let welcome = Welcome {
        you: "bob",
        history: &history,
        more: true,
        roster,
        notice: "You are bob.",
        alert: true,
        announce: "",
        tag: "",
        host: false,
    };
    let html = page(&ServerEvent::Welcome(welcome));
    assert!(html.starts_with(r#"<ul id="messages" hx-swap-oob="true""#));
    assert!(html.contains("/r/x/history?before=7&amp;limit=50"));
    assert!(html.contains(
        r#"<ul id="roster" hx-swap-oob="true" aria-label="2 here"><li data-name="&lt;ann&gt;">&lt;ann&gt;</li>"#
    ));
    assert!(html.contains(r#"<span id="me" hx-swap-oob="true" data-name="bob" data-tag="">bob</span>"#));
    assert!(html.ends_with(r#"class="notice info" role="alert">You are bob.</p>"#));
}

#[test]
fn big_presence_batches_are_summed_up() {
    let changes: Vec<Change> = (0..40).map(|i| Change { name: format!("p{i}"), joined: i != 5, ts: 0 }).collect();
    let roster = Roster { names: &["p0", "p1"], count: 250 };
    let html = page(&ServerEvent::Presence(Presence { changes: &changes, roster }));
    assert!(html.contains(r#"<b class="name">p0</b>, <b class="name">p1</b> and 37 others joined</li>"#), "{html}");
    assert!(html.contains(r#"<b class="name">p5</b> left</li>"#), "{html}");
    assert!(html.contains(r#"<li class="more">and 248 more</li></ul>"#), "{html}");
    let small = page(&ServerEvent::Presence(Presence { changes: &changes[..2], roster }));
    assert_eq!(small.matches("<li class=\"event join\">").count(), 2);
}

#[test]
fn the_room_list_replaces_the_side_bars_and_marks_no_room() {
    let rooms = [
        RoomSummary { name: "lobby".into(), members: 2, messages: 40 },
        RoomSummary { name: "kitchen".into(), members: 0, messages: 3 },
    ];
    assert_eq!(
        page(&ServerEvent::Rooms(&rooms)),
        concat!(
            r#"<ul id="rooms" hx-swap-oob="true">"#,
            r#"<li><a href="/">#lobby</a> <span class="count" title="people here">2</span></li>"#,
            r#"<li><a href="/r/kitchen">#kitchen</a> <span class="count" title="people here">0</span></li>"#,
            "</ul>"
        )
    );
    assert!(page(&ServerEvent::Rooms(&[])).contains(r#"<li class="empty">No other rooms yet.</li>"#));
}

#[test]
fn url_encoding() {
    assert_eq!(url_encode("ann b/é"), "ann%20b%2F%C3%A9");
}
