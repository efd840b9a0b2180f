//! The JSON dialect's events, checked on the wire.

use super::*;
use crate::protocol::{Change, Dialect};

fn texts(event: &ServerEvent<'_>) -> Vec<String> {
    let frames = Dialect::Json.frames("x", event);
    let mut bytes = frames.as_bytes();
    let mut out = Vec::new();
    while !bytes.is_empty() {
        // Frames under 64 KiB here: a 7-bit length, or 126 and 16 bits (RFC 6455 §5.2).
        let (start, len) = match bytes[1] {
            126 => (4, u16::from_be_bytes([bytes[2], bytes[3]]) as usize),
            len => (2, len as usize),
        };
        out.push(String::from_utf8(bytes[start..start + len].to_vec()).unwrap());
        bytes = &bytes[start + len..];
    }
    out
}

#[test]
fn events_have_a_type_and_their_fields_in_wire_order() {
    let m = ChatMessage {
        seq: 7,
        ts: 1_764_190_800_123,
        name: "<ann>".into(),
        text: "a \"quote\"".into(),
        mentions: vec!["bob".into()],
        by: "0123abcd".into(),
        ..ChatMessage::default()
    };
    assert_eq!(
        texts(&ServerEvent::Message(&m)),
        [
            r#"{"type":"message","room":"x","seq":7,"ts":"2025-11-26T21:00:00.123Z","name":"<ann>","text":"a \"quote\"","mentions":["bob"]}"#
        ]
    );
    let file =
        SharedFile { url: "/files/ab/a.png".into(), name: "a.png".into(), size: 3, media_type: "image/png".into() };
    let shared = ChatMessage {
        seq: 8,
        ts: 0,
        name: "ann".into(),
        text: String::new(),
        mentions: vec![],
        file: Some(file),
        ..ChatMessage::default()
    };
    assert_eq!(
        texts(&ServerEvent::Message(&shared)),
        [concat!(
            r#"{"type":"message","room":"x","seq":8,"ts":"1970-01-01T00:00:00.000Z","name":"ann","text":"","mentions":[],"#,
            r#""file":{"url":"/files/ab/a.png","name":"a.png","size":3,"type":"image/png"}}"#
        )]
    );
    assert_eq!(texts(&ServerEvent::Error("no")), [r#"{"type":"error","text":"no"}"#]);
    let changes = [Change { name: "bob".into(), joined: false, ts: 0 }];
    let presence = Presence { changes: &changes, roster: Roster { names: &["a"], count: 5 } };
    assert_eq!(
        texts(&ServerEvent::Presence(presence)),
        [
            r#"{"type":"leave","room":"x","ts":"1970-01-01T00:00:00.000Z","name":"bob"}"#,
            r#"{"type":"roster","room":"x","members":["a"],"count":5}"#
        ]
    );
    let rooms = [RoomSummary { name: "lobby".into(), members: 2, messages: 40 }];
    assert_eq!(
        texts(&ServerEvent::Rooms(&rooms)),
        [r#"{"type":"rooms","rooms":[{"name":"lobby","members":2,"messages":40}]}"#]
    );
    let renamed =
        crate::protocol::Renamed { from: "ann", to: "zoe", ts: 0, roster: Roster { names: &["zoe"], count: 1 } };
    assert_eq!(
        texts(&ServerEvent::Renamed(renamed)),
        [
            r#"{"type":"rename","room":"x","ts":"1970-01-01T00:00:00.000Z","from":"ann","to":"zoe"}"#,
            r#"{"type":"roster","room":"x","members":["zoe"]}"#
        ]
    );
}

#[test]
fn what_the_server_writes_a_client_reads_back() {
    let m = ChatMessage {
        seq: 1,
        ts: 0,
        name: "ann".into(),
        text: "hi".into(),
        mentions: vec![],
        ..ChatMessage::default()
    };
    let roster = Roster { names: &["ann"], count: 1 };
    let welcome = Welcome {
        you: "ann",
        history: &[m],
        more: false,
        roster,
        notice: "hello",
        alert: false,
        announce: "",
        tag: "",
        host: false,
    };
    let read: Vec<Event<'static>> =
        texts(&ServerEvent::Welcome(welcome)).iter().map(|t| serde_json::from_str(t).unwrap()).collect();
    assert!(matches!(&read[0], Event::History { messages, more: false, .. } if messages[0].message().text == "hi"));
    assert!(matches!(&read[1], Event::Roster { count: None, .. }));
    assert!(matches!(&read[2], Event::Notice { name: Some(name), .. } if name == "ann"));
}
