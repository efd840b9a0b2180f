//! Chat payloads: well-formed frames with odd contents get a notice, and the socket stays open.

use super::*;

/// What a chat payload leads to.
pub(crate) enum Outcome {
    /// An error notice to the sender only, containing this phrase.
    Notice(&'static str),
    /// Relayed as a message with exactly this text.
    Relayed(String),
    /// Nothing at all (a blank message).
    Ignored,
}

pub(crate) const NOT_CHAT_JSON: &str = "Could not read that message";

#[rustfmt::skip]
pub(crate) fn payload_cases() -> Vec<(&'static str, String, Outcome)> {
    use Outcome::{Ignored, Notice, Relayed};
    // Well-formed chat JSON, as a client writes it, just too long (or not quite).
    let long = |text: String| json::to_text(&Said { message: text.into() });
    vec![
        ("10,000 nested arrays", "[".repeat(10_000), Notice(NOT_CHAT_JSON)),
        ("10,000 nested arrays as the message", format!(r#"{{"message":{}"#, "[".repeat(10_000)), Notice(NOT_CHAT_JSON)),
        ("10,000 nested objects in an ignored field", format!(r#"{{"message":"x","junk":{}"#, r#"{"a":"#.repeat(10_000)), Notice(NOT_CHAT_JSON)),
        ("number out of range as the message", r#"{"message": 1e999999}"#.into(), Notice(NOT_CHAT_JSON)),
        ("huge integer as the message", format!(r#"{{"message": {}}}"#, "9".repeat(5_000)), Notice(NOT_CHAT_JSON)),
        // An ignored field is skipped without evaluating it.
        ("huge number in an ignored field", format!(r#"{{"message":"big numbers","n":1e999999,"m":{}}}"#, "9".repeat(5_000)), Relayed("big numbers".into())),
        ("null message", r#"{"message": null}"#.into(), Notice(NOT_CHAT_JSON)),
        ("number message", r#"{"message": 5}"#.into(), Notice(NOT_CHAT_JSON)),
        ("array message", r#"{"message": ["a"]}"#.into(), Notice(NOT_CHAT_JSON)),
        ("object message", r#"{"message": {"text": "a"}}"#.into(), Notice(NOT_CHAT_JSON)),
        ("no message field", r#"{"text": "hi"}"#.into(), Notice(NOT_CHAT_JSON)),
        ("duplicate message fields", r#"{"message":"x","message":"y"}"#.into(), Notice(NOT_CHAT_JSON)),
        ("lone UTF-16 surrogate escape", r#"{"message":"\ud800"}"#.into(), Notice(NOT_CHAT_JSON)),
        ("trailing junk after the object", r#"{"message":"a"} x"#.into(), Notice(NOT_CHAT_JSON)),
        ("byte order mark before the object", "\u{feff}{\"message\":\"a\"}".into(), Notice(NOT_CHAT_JSON)),
        ("empty frame", String::new(), Notice(NOT_CHAT_JSON)),
        ("bare JSON null", "null".into(), Notice(NOT_CHAT_JSON)),
        ("plain text, not JSON", "hello there".into(), Notice(NOT_CHAT_JSON)),
        ("2,001 characters", long("x".repeat(2001)), Notice("it is 2001 characters long, and the limit is 2000")),
        ("2,000 characters", long("x".repeat(2000)), Relayed("x".repeat(2000))),
        ("2,001 two-byte characters", long("é".repeat(2001)), Notice("it is 2001 characters long, and the limit is 2000")),
        ("blank message", r#"{"message":"   \n\t "}"#.into(), Ignored),
        // Line breaks and tabs are kept, CR LF is LF; any other control character is refused
        // (it would not show on the page, and in a terminal an ESC can clear the screen).
        ("control characters", r#"{"message":"a\u0000b\u0007c\u001b[2Jd"}"#.into(), Notice("control character U+0000")),
        ("an escape sequence", r#"{"message":"\u001b[2Jcleared"}"#.into(), Notice("control character U+001B")),
        ("a C1 control", r#"{"message":"a\u009bb"}"#.into(), Notice("control character U+009B")),
        ("lines and a tab", r#"{"message":"one\ntwo\tcols\r\nthree"}"#.into(), Relayed("one\ntwo\tcols\nthree".into())),
        ("__proto__ key beside the message", r#"{"__proto__":{"message":"polluted"},"message":"real"}"#.into(), Relayed("real".into())),
        ("__proto__ key alone", r#"{"__proto__":{"message":"polluted"}}"#.into(), Notice(NOT_CHAT_JSON)),
        ("constructor.prototype key", r#"{"constructor":{"prototype":{"admin":true}},"message":"ctor"}"#.into(), Relayed("ctor".into())),
    ]
}

/// The next text frame, failing with the case's name if none comes.
pub(crate) fn next_text(client: &mut Client, case: &str) -> String {
    match client.recv_within(TIMEOUT) {
        Some(Message::Text(text)) => text.to_string(),
        other => panic!("{case}: expected a text frame, got {other:?}"),
    }
}

#[test]
fn hostile_chat_payloads_get_notices_and_the_socket_stays_open() {
    let server = TestServer::start(&["--max-per-ip", "0", "--rate-limit", "0", "--memory"]);
    let cases = payload_cases();

    // As a JSON client: each answer is one event.
    let (mut json, _) = Client::join_json(&server.ws_url("/r/payloads-json/connect"));
    for (i, (name, payload, outcome)) in cases.iter().enumerate() {
        json.send_text(payload);
        match outcome {
            Outcome::Notice(phrase) => {
                let event = parse_event(&next_text(&mut json, name));
                assert!(matches!(&event, Event::Error { text } if text.contains(phrase)), "{name}: {event:?}");
            }
            Outcome::Relayed(text) => {
                let event = parse_event(&next_text(&mut json, name));
                assert!(matches!(&event, Event::Message(m) if m.text == *text), "{name}: {event:?}");
            }
            Outcome::Ignored => {}
        }
        // The socket stays open and the next valid message goes through; it is also the very next
        // event, so nothing else was sent for the case.
        let follow = format!("round trip {i}");
        json.say_json(&follow);
        let event = parse_event(&next_text(&mut json, name));
        assert!(matches!(&event, Event::Message(m) if m.text == follow), "{name}: {event:?}");
    }

    // As the page (HTML fragments): notices go to the notice box, escaped.
    let (mut page, _) = Client::join(&server.ws_url("/r/payloads-html/connect"));
    for (i, (name, payload, outcome)) in cases.iter().enumerate() {
        page.send_text(payload);
        match outcome {
            Outcome::Notice(phrase) => {
                let fragment = next_text(&mut page, name);
                assert!(
                    fragment.starts_with(r#"<p id="notice" hx-swap-oob="true" class="notice error""#),
                    "{name}: {fragment}"
                );
                assert!(fragment.contains(phrase), "{name}: {fragment}");
            }
            Outcome::Relayed(text) => {
                let fragment = next_text(&mut page, name);
                assert!(fragment.starts_with(r#"<ul id="messages""#), "{name}: {fragment}");
                assert!(fragment.contains(text.as_str()), "{name}: {fragment}");
            }
            Outcome::Ignored => {}
        }
        let follow = format!("page round trip {i}");
        page.say(&follow);
        let fragment = next_text(&mut page, name);
        assert!(fragment.starts_with(r#"<ul id="messages""#) && fragment.contains(&follow), "{name}: {fragment}");
    }

    still_serves(server.addr).unwrap();
    assert_chat_round_trip(&server, "after-payloads");
}
