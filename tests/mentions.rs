//! Mentions: `@name` calls a member of the room. The server works out whom, once, and every
//! member gets the same bytes: the JSON `message` event's `mentions` list, the page's
//! `data-mentions` attribute. Whether a mention is *mine* is the reader's business.

mod support;

use chatroom::protocol::json::Event;
use support::{element, Client, TempDir, TestServer};

/// The mentions of the next message `client` gets.
fn mentions_of_next(client: &mut Client) -> Vec<String> {
    client.recv_message().mentions.into_iter().map(|name| name.into_owned()).collect()
}

#[test]
fn a_mention_names_members_present_as_they_are_named() {
    let server = TestServer::start(&[]);
    let url = |name: &str| server.ws_url(&format!("/r/calls/connect?name={name}"));
    let mut ann = Client::connect_json(&url("ann"));
    let mut ann2 = Client::connect_json(&url("ann"));
    let mut bob = Client::connect_json(&url("Bob"));
    for client in [&mut ann, &mut ann2, &mut bob] {
        client.recv_event_where(|e| matches!(e, Event::Notice { .. }));
    }

    // Longest name first, case ignored, each once, in order; the absent and the address are not.
    bob.say("@ann (2) and @ANN, also @carl and mail@ann or @ann again");
    let expected = ["ann (2)", "ann"];
    for client in [&mut ann, &mut ann2, &mut bob] {
        assert_eq!(mentions_of_next(client), expected);
    }
    ann.say("@bob: hi");
    assert_eq!(mentions_of_next(&mut bob), ["Bob"]);
    // No mention: an empty list, not a missing field.
    ann.say("nobody");
    let (_, text) = bob.recv_event_text_where(|e| matches!(e, Event::Message(_)));
    assert!(text.contains(r#""mentions":[]"#), "{text}");
}

#[test]
fn the_page_gets_the_same_list_in_an_attribute() {
    let server = TestServer::start(&[]);
    let (mut page, _) = Client::join(&server.ws_url("/r/calls/connect?name=ann%20%3Cb%3E"));
    let mut bob = Client::connect_json(&server.ws_url("/r/calls/connect?name=bob"));
    bob.recv_event_where(|e| matches!(e, Event::Notice { .. }));
    bob.say("@ann <b> look");
    let fragment = page.recv_containing("look");
    let item = element(&fragment, "<li class=\"message\"", ">").expect("a message item");
    assert!(item.contains(r#"data-mentions="[&quot;ann &lt;b&gt;&quot;]""#), "{item}");
    // A message without mentions has no attribute at all.
    bob.say("plain");
    let fragment = page.recv_containing("plain");
    assert!(!fragment.contains("data-mentions"), "{fragment}");
}

#[test]
fn mentions_are_kept_in_the_log_and_come_back_in_history() {
    let data = TempDir::new("mentions");
    let dir = data.path().to_str().unwrap();
    {
        let server = TestServer::start(&["--data-dir", dir]);
        let mut ann = Client::connect_json(&server.ws_url("/r/kept/connect?name=ann"));
        ann.recv_event_where(|e| matches!(e, Event::Notice { .. }));
        ann.say("note to @ann");
        assert_eq!(mentions_of_next(&mut ann), ["ann"]);
    }
    let log = std::fs::read_to_string(data.path().join("kept.jsonl")).unwrap();
    assert!(log.contains(r#""mentions":["ann"]"#), "{log}");
    let server = TestServer::start(&["--data-dir", dir]);
    let page = support::get_history(server.addr, "/r/kept/history");
    assert_eq!(page.messages[0].message().mentions, ["ann"]);
    // The welcome's history carries them too.
    let mut again = Client::connect_json(&server.ws_url("/r/kept/connect?name=zed"));
    match again.recv_event_where(|e| matches!(e, Event::History { .. })) {
        Event::History { messages, .. } => assert_eq!(messages[0].message().mentions, ["ann"]),
        _ => unreachable!(),
    }
}

#[test]
fn a_log_from_before_mentions_reads_as_mentioning_no_one() {
    let data = TempDir::new("old-log");
    std::fs::write(data.path().join("old.jsonl"), support::log_line(1, 1_700_000_000_000, "ann", "@ann hi")).unwrap();
    let server = TestServer::start(&["--data-dir", data.path().to_str().unwrap()]);
    let page = support::get_history(server.addr, "/r/old/history");
    assert_eq!(page.messages.len(), 1);
    assert!(page.messages[0].message().mentions.is_empty());
}
