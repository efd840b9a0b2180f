//! `/nick NAME`: a new name, unique in the room as at join, told to everyone with the roster, in
//! both dialects; mentions, `/msg`, the host's commands and the roster follow it; mutes, kicks
//! and slow mode do not come off with the old name; a bad name is refused like at join.

mod support;

use chatroom::protocol::json::Event;
use support::*;

fn server() -> TestServer {
    TestServer::start(&["--host-key", HOST_KEY, "--rate-limit", "0"])
}

/// The next `rename` event, as (from, to), and the roster that follows it.
fn rename(client: &mut Client) -> ((String, String), Vec<String>) {
    let Event::Rename { from, to, .. } = client.recv_event_where(|e| matches!(e, Event::Rename { .. })) else {
        unreachable!()
    };
    let roster = client.recv_event();
    let Event::Roster { members, .. } = roster else { panic!("a roster follows a rename, not {roster:?}") };
    ((from.into_owned(), to.into_owned()), members.into_iter().map(|m| m.into_owned()).collect())
}

fn pair(from: &str, to: &str) -> (String, String) {
    (from.to_string(), to.to_string())
}

#[test]
fn a_new_name_is_told_to_everyone_with_the_roster_and_is_unique_as_at_join() {
    let server = server();
    let mut ann = member(&server, "ann");
    let mut bob = member(&server, "bob");
    ann.type_in("/nick Annie");
    let (change, roster) = rename(&mut bob);
    assert_eq!(change, pair("ann", "Annie"));
    assert_eq!(roster, ["Annie", "bob"], "the roster keeps the order of arrival");
    assert_eq!(rename(&mut ann).0, pair("ann", "Annie"), "the one renamed is told too");
    // Taken (compared as at join: case, width, composition): numbered, and told so.
    bob.type_in("/nick ａｎｎｉｅ");
    assert_eq!(rename(&mut ann).0, pair("bob", "ａｎｎｉｅ (2)"));
    match bob.recv_event_where(|e| matches!(e, Event::Notice { .. })) {
        Event::Notice { text, .. } => {
            assert_eq!(text, "The name ａｎｎｉｅ is taken here, so you are ａｎｎｉｅ (2).")
        }
        _ => unreachable!(),
    }
    // One's own name, spelled another way, is one's own to take.
    ann.type_in("/nick ANNIE");
    assert_eq!(rename(&mut bob).0, pair("Annie", "ANNIE"));
    ann.type_in("/nick ANNIE");
    assert_eq!(ann.recv_error(), "You are already called ANNIE.");
    // Numbered again, bob's own numbered name is free for him: a new spelling.
    bob.type_in("/nick annie");
    assert_eq!(rename(&mut ann).0, pair("ａｎｎｉｅ (2)", "annie (2)"));
    bob.type_in("/nick annie");
    assert_eq!(bob.recv_error(), "The name annie is taken here, so you stay annie (2).");
    // The old name is free again: a newcomer gets it as it is.
    let (_newcomer, welcome) = Client::join_json(&server.ws_url("/connect?name=bob"));
    assert_eq!(welcome.name, "bob");
    assert_eq!(welcome.members, ["ANNIE", "annie (2)", "bob"]);
}

#[test]
fn mentions_private_messages_commands_and_leaving_follow_the_new_name() {
    let server = server();
    let mut teacher = host(&server, "teacher");
    let mut ann = member(&server, "ann");
    let mut bob = member(&server, "bob");
    ann.type_in("/nick zoe");
    rename(&mut bob);
    bob.type_in("@zoe look, @ann is gone");
    let message = ann.recv_message();
    assert_eq!(message.mentions, ["zoe"], "mentions are worked out against the names as they are now");
    bob.type_in("/msg zoe psst");
    let Event::Direct { from, to, text, .. } = ann.recv_event_where(|e| matches!(e, Event::Direct { .. })) else {
        unreachable!()
    };
    assert_eq!((from.as_ref(), to.as_ref(), text.as_ref()), ("bob", "zoe", "psst"));
    bob.type_in("/msg ann psst");
    assert!(bob.recv_error().contains("no one here has that name"));
    // What zoe says now goes out under the new name.
    ann.type_in("hello");
    assert_eq!(bob.recv_message().name, "zoe");
    teacher.type_in("/mute ann");
    assert!(teacher.recv_error().contains("No one called ann is here."));
    teacher.type_in("/mute zoe 5");
    let told = ann.recv_event_where(|e| matches!(e, Event::Notice { .. }));
    assert!(matches!(&told, Event::Notice { text, .. } if text == "zoe is muted for 5 minute(s)."), "{told:?}");
    drop(ann);
    let left = bob.recv_event_where(|e| matches!(e, Event::Leave(_)));
    assert!(matches!(&left, Event::Leave(arrival) if arrival.name == "zoe"), "{left:?}");
}

#[test]
fn a_new_name_sheds_no_mute_no_kick_and_no_slow_mode() {
    let server = server();
    let mut teacher = host(&server, "teacher");
    let mut bob = member(&server, "bob");
    let mut ann = member(&server, "ann");
    // Each order of the host's is waited for (its notice) before the member acts.
    teacher.type_in("/mute bob");
    bob.recv_notice("bob is muted");
    bob.type_in("/nick robert");
    assert!(bob.recv_error().contains("the host has muted you"), "a rename is seen by everyone, like a message");
    teacher.type_in("/unmute bob");
    bob.recv_notice("bob may speak again");
    teacher.type_in("/slow 60");
    ann.recv_notice("Slow mode");
    ann.type_in("hi");
    ann.recv_message();
    ann.type_in("/nick anna");
    assert!(ann.recv_error().contains("slow mode is on"));
    // A kick finds the member by its new name and keeps its id out.
    teacher.type_in("/slow 0");
    bob.recv_notice("Slow mode is off");
    bob.type_in("/nick robert");
    rename(&mut teacher);
    teacher.type_in("/kick robert");
    assert_eq!(u16::from(bob.expect_close().code), 4003);
    let cookie = format!("chatroom_id={}", member_id("bob"));
    let mut again = Client::try_connect(
        &server.ws_url("/connect?name=bobby"),
        &[("Sec-WebSocket-Protocol", "chatroom.json"), ("Cookie", &cookie)],
    )
    .expect("upgraded");
    assert_eq!(u16::from(again.expect_close().code), 4003);
}

#[test]
fn a_bad_new_name_is_refused_like_one_at_join() {
    let server = TestServer::start(&["--max-name", "8"]);
    let mut ann = member(&server, "ann");
    let cases = [
        ("/nick", "needs a name"),
        ("/nick    ", "needs a name"),
        ("/nick far too long a name", "/nick: That name is 19 characters long; the limit is 8."),
        ("/nick a\u{2060}nn", "/nick: A name cannot contain invisible or formatting characters."),
        ("/nick a\u{202e}nn", "/nick: A name cannot contain control or text-direction characters."),
        ("/nick a  b", "/nick: A name can only have single, ordinary spaces between its words."),
    ];
    for (typed, answer) in cases {
        ann.type_in(typed);
        let error = ann.recv_error();
        assert!(error.contains(answer), "{typed:?}: {error}");
    }
    // Still ann, and still in the room.
    ann.type_in("still here");
    assert_eq!(ann.recv_message().name, "ann");
}

#[test]
fn the_page_sees_the_change_escaped_with_the_roster_and_renames_with_the_same_text() {
    let server = server();
    let (mut page, _) = Client::join(&server.ws_url("/connect?name=pat"));
    let mut ann = member(&server, "ann");
    page.recv_tagged_containing("ann</b> joined");
    ann.type_in("/nick <b>ann</b>");
    rename(&mut ann);
    let line = page.recv_tagged_containing(r#"class="event rename""#);
    assert!(line.contains(r#"<li class="event rename" data-from="ann" data-to="&lt;b&gt;ann&lt;/b&gt;">"#), "{line}");
    assert!(line.contains(r#"<b class="name">ann</b> is now <b class="name">&lt;b&gt;ann&lt;/b&gt;</b>"#), "{line}");
    assert!(line.contains(r#"<ul id="roster""#) && !line.contains("<b>ann</b>"), "{line}");
    // The page's rename box sends the same text a person could type.
    page.say("/nick pat the cat");
    assert_eq!(rename(&mut ann).0, pair("pat", "pat the cat"));
}
