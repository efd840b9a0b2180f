//! The host's commands, allowed and refused, in both dialects: /kick (4003, and kept out by
//! member id), /lock (4004), /mute, /slow, /announce, /help; and that being the host is a matter
//! of the key, never of the name. (Edits, deletes, /msg and restarts: tests/edits.rs.)

mod support;

use chatroom::protocol::json::Event;
use support::*;

fn server() -> TestServer {
    TestServer::start(&["--host-key", HOST_KEY, "--rate-limit", "0"])
}

fn close_code(client: &mut Client) -> (u16, String) {
    let frame = client.expect_close();
    (u16::from(frame.code), frame.reason.to_string())
}

#[test]
fn help_lists_what_the_sender_may_use_and_unknown_commands_are_refused() {
    let server = server();
    let mut ann = member(&server, "ann");
    ann.type_in("/help");
    let help = ann.recv_notice("Commands:");
    assert!(help.contains("/edit SEQ TEXT") && !help.contains("/kick"), "{help}");
    let mut teacher = host(&server, "teacher");
    teacher.type_in("/help");
    assert!(teacher.recv_notice("Commands:").contains("/kick NAME"));
    ann.type_in("/dance");
    assert!(ann.recv_error().contains("There is no command /dance"));
    // `//` says a text that starts with a slash.
    ann.type_in("//dance");
    assert_eq!(ann.recv_message().text, "/dance");
}

#[test]
fn host_commands_are_refused_to_members_and_to_a_name_alone() {
    let server = server();
    let mut bob = member(&server, "bob");
    // Taking a name that a host had gives nothing: being the host is the key.
    let mut teacher = member(&server, "teacher");
    for command in ["/kick bob", "/mute bob", "/unmute bob", "/lock", "/unlock", "/slow 5", "/announce hi"] {
        teacher.type_in(command);
        let refused = teacher.recv_error();
        assert!(refused.starts_with("Only the host can use"), "{command}: {refused}");
    }
    // Nothing was relayed: bob's next event is what he says himself.
    bob.type_in("still here");
    assert_eq!(bob.recv_message().text, "still here");
}

#[test]
fn a_kicked_member_is_closed_with_4003_and_kept_out_by_member_id() {
    let server = server();
    let mut teacher = host(&server, "teacher");
    let mut bob = member(&server, "bob");
    let mut ann = member(&server, "ann");
    teacher.type_in("/kick nobody");
    assert!(teacher.recv_error().contains("No one called nobody is here"));
    teacher.type_in("/kick bob");
    let (code, reason) = close_code(&mut bob);
    assert_eq!(code, 4003);
    assert!(reason.contains("removed from #lobby by the host"), "{reason}");
    assert!(ann.recv_notice("was removed").contains("bob was removed by the host."));
    // Back with the same id, under another name: closed right after the upgrade.
    let cookie = format!("chatroom_id={}", member_id("bob"));
    let mut again = Client::try_connect(
        &server.ws_url("/connect?name=robert"),
        &[("Sec-WebSocket-Protocol", "chatroom.json"), ("Cookie", &cookie)],
    )
    .expect("the upgrade itself succeeds");
    let (code, reason) = close_code(&mut again);
    assert_eq!(code, 4003);
    assert!(reason.contains("try again in 10 minute(s)"), "{reason}");
    // Another member id (another browser) is welcome; the host cannot be kicked.
    let _carol = member(&server, "carol");
    let mut other_host = host(&server, "second");
    other_host.type_in("/kick teacher");
    assert!(other_host.recv_error().contains("The host cannot be kicked"));
}

#[test]
fn a_locked_room_turns_newcomers_away_with_4004_but_not_the_host() {
    let server = server();
    let mut teacher = host(&server, "teacher");
    let mut ann = member(&server, "ann");
    teacher.type_in("/lock");
    ann.recv_notice("locked the room");
    let mut late =
        Client::try_connect(&server.ws_url("/connect?name=late"), &[("Sec-WebSocket-Protocol", "chatroom.json")])
            .expect("upgraded");
    let (code, reason) = close_code(&mut late);
    assert_eq!(code, 4004);
    assert!(reason.contains("#lobby is locked"), "{reason}");
    // The page is turned away the same way.
    let mut page = Client::connect(&server.ws_url("/connect?name=page"));
    assert_eq!(close_code(&mut page).0, 4004);
    let _host_again = host(&server, "assistant");
    // Other rooms are not locked.
    let _elsewhere = Client::join_json(&server.ws_url("/r/kitchen/connect?name=late"));
    teacher.type_in("/unlock");
    ann.recv_notice("unlocked");
    let _now_in = member(&server, "late");
}

#[test]
fn a_muted_member_is_told_and_not_relayed_until_unmuted() {
    let server = server();
    let mut teacher = host(&server, "teacher");
    let mut bob = member(&server, "bob");
    let mut ann = member(&server, "ann");
    teacher.type_in("/mute bob 5");
    assert!(ann.recv_notice("muted").contains("bob is muted for 5 minute(s)."));
    bob.type_in("let me speak");
    assert!(bob.recv_error().contains("the host has muted you for 5 more minute(s)"));
    bob.type_in("/msg ann psst");
    assert!(bob.recv_error().contains("muted"));
    teacher.type_in("/unmute bob");
    ann.recv_notice("may speak again");
    bob.type_in("thanks");
    // Ann's next message is bob's "thanks": "let me speak" never came.
    assert_eq!(ann.recv_message().text, "thanks");
    teacher.type_in("/unmute bob");
    assert!(teacher.recv_error().contains("bob is not muted"));
    teacher.type_in("/mute teacher");
    assert!(teacher.recv_error().contains("The host cannot be muted"));
}

#[test]
fn slow_mode_holds_back_a_second_message_and_not_the_host() {
    let server = server();
    let mut teacher = host(&server, "teacher");
    let mut ann = member(&server, "ann");
    teacher.type_in("/slow 60");
    assert!(ann.recv_notice("Slow mode").contains("one message per member every 60 s"));
    ann.type_in("one");
    assert_eq!(ann.recv_message().text, "one");
    ann.type_in("two");
    assert!(ann.recv_error().contains("slow mode is on; you may speak again in"));
    teacher.type_in("a");
    teacher.type_in("b");
    assert_eq!(ann.recv_message().text, "a");
    assert_eq!(ann.recv_message().text, "b");
    teacher.type_in("/slow 0");
    ann.recv_notice("Slow mode is off");
    ann.type_in("three");
    assert_eq!(ann.recv_message().text, "three");
    teacher.type_in("/slow 99999");
    assert!(teacher.recv_error().contains("too large"));
}

#[test]
fn the_banner_reaches_everyone_and_a_joiner_gets_it_after_the_roster() {
    let server = server();
    let mut teacher = host(&server, "teacher");
    let mut ann = member(&server, "ann");
    teacher.type_in("/announce Test at 10: phones away");
    let banner = ann.recv_event_where(|e| matches!(e, Event::Announce { .. }));
    assert!(matches!(&banner, Event::Announce { text, .. } if text == "Test at 10: phones away"), "{banner:?}");
    // A JSON joiner: history, roster, notice, then the banner.
    let (mut late, _) = Client::join_json(&server.ws_url("/connect?name=late"));
    assert!(matches!(late.recv_event(), Event::Announce { text, .. } if text == "Test at 10: phones away"));
    // A page: the banner comes in the welcome, after the roster.
    let (_page, welcome) = Client::join(&server.ws_url("/connect?name=page"));
    let roster = welcome.find(r#"<ul id="roster""#).unwrap();
    let announce = welcome
        .find(r#"<div id="announce" hx-swap-oob="true" class="announce" role="status">Test at 10: phones away</div>"#);
    assert!(announce.is_some_and(|at| at > roster), "{welcome}");
    teacher.type_in("/announce");
    assert!(
        matches!(ann.recv_event_where(|e| matches!(e, Event::Announce { .. })), Event::Announce { text, .. } if text.is_empty())
    );
}

#[test]
fn the_page_is_host_by_its_cookie_and_sends_commands_like_messages() {
    let server = server();
    let link = get(server.addr, &format!("/host?key={HOST_KEY}"));
    let cookie = link.header("Set-Cookie").unwrap().split(';').next().unwrap().to_string();
    let mut page = Client::try_connect(&server.ws_url("/connect?name=teacher"), &[("Cookie", &cookie)]).unwrap();
    let welcome = page.recv_tagged_text();
    assert!(welcome.contains(r#"data-host="true""#), "{welcome}");
    let mut plain = Client::connect(&server.ws_url("/connect?name=pupil"));
    let plain_welcome = plain.recv_tagged_text();
    assert!(!plain_welcome.contains("data-host"), "{plain_welcome}");
    let mut bob = member(&server, "bob");
    page.say("/kick bob");
    assert_eq!(close_code(&mut bob).0, 4003);
    let line = plain.recv_containing("was removed");
    assert!(
        line.contains(r#"<li class="event moderation">"#) && line.contains("bob was removed by the host."),
        "{line}"
    );
    plain.say("/lock");
    assert!(plain.recv_containing("notice error").contains("Only the host can use /lock and /unlock."));
}
