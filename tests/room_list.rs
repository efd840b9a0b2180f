//! The live room list: every member is sent the list of public rooms (`rooms` event) when it
//! changes, within seconds, and nothing when it does not.

mod support;

use std::time::{Duration, Instant};

use chatroom::protocol::json::{Event, RoomSummary};
use support::{parse_event, Client, TestServer};

/// The server looks once a second, and sends a changed list at most every three seconds: a
/// change shows within this.
const WITHIN: Duration = Duration::from_secs(6);

/// The rooms of a `rooms` event that a JSON client got.
fn rooms_of(text: &str) -> Vec<RoomSummary> {
    match parse_event(text) {
        Event::Rooms { rooms } => rooms.into_owned(),
        other => panic!("not a room list: {other:?}"),
    }
}

/// Waits for a JSON room list that `wanted` says yes to (earlier ones may be on their way).
fn json_list_where(client: &mut Client, wanted: impl Fn(&[RoomSummary]) -> bool) -> Vec<RoomSummary> {
    let until = Instant::now() + WITHIN + WITHIN;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let text = client.recv_room_list(left).expect("a room list in time");
        let rooms = rooms_of(&text);
        if wanted(&rooms) {
            return rooms;
        }
    }
}

fn members_in(rooms: &[RoomSummary], name: &str) -> Option<usize> {
    rooms.iter().find(|room| room.name == name).map(|room| room.members)
}

#[test]
fn the_list_follows_people_coming_and_going_in_both_dialects() {
    let server = TestServer::start(&[]);
    let (mut page, _) = Client::join(&server.ws_url("/connect?name=ann"));
    let mut bot = Client::connect_json(&server.ws_url("/connect?name=bot"));

    // Someone opens a new room: both hear of it, with its head count.
    let mut bob = Client::connect_json(&server.ws_url("/r/kitchen/connect?name=bob"));
    let rooms = json_list_where(&mut bot, |rooms| members_in(rooms, "kitchen") == Some(1));
    assert_eq!(members_in(&rooms, "lobby"), Some(2));
    let kitchen = r#"<li><a href="/r/kitchen">#kitchen</a> <span class="count" title="people here">1</span></li>"#;
    let fragment = loop {
        let fragment = page.recv_room_list(WITHIN + WITHIN).expect("the page gets the list too");
        if fragment.contains(kitchen) {
            break fragment;
        }
    };
    assert!(fragment.starts_with(r#"<ul id="rooms" hx-swap-oob="true">"#), "{fragment}");
    // The same bytes for everyone: no room is marked as "yours" by the server.
    assert!(!fragment.contains("aria-current"), "{fragment}");

    // The one in the kitchen says something and leaves: the list says so.
    bob.say_json("anyone?");
    bob.ws.close(None).unwrap();
    let rooms = json_list_where(&mut bot, |rooms| members_in(rooms, "kitchen") == Some(0));
    assert_eq!(members_in(&rooms, "lobby"), Some(2));

    // Members of a room hear of the others' lists too.
    let mut cook = Client::connect_json(&server.ws_url("/r/kitchen/connect?name=cook"));
    json_list_where(&mut cook, |rooms| {
        members_in(rooms, "lobby") == Some(2) && members_in(rooms, "kitchen") == Some(1)
    });
}

#[test]
fn no_list_is_sent_when_nothing_changed_and_private_rooms_are_never_in_it() {
    let server = TestServer::start(&[]);
    let mut bot = Client::connect_json(&server.ws_url("/connect?name=bot"));
    let private = chatroom::chat::names::private_room();
    let mut hidden = Client::connect_json(&server.ws_url(&format!("/r/{private}/connect?name=spy")));
    // The lobby's head count changed (bot came): that list arrives...
    let first = json_list_where(&mut bot, |rooms| members_in(rooms, "lobby") == Some(1));
    assert_eq!(members_in(&first, &private), None, "{first:?}");
    // ...at the member of the private room as well, and then nothing more while nothing changes:
    // messages are not news for the list.
    json_list_where(&mut hidden, |rooms| members_in(rooms, "lobby") == Some(1));
    bot.say_json("just talking");
    hidden.say_json("me too");
    let quiet = Duration::from_secs(3);
    assert_eq!(bot.recv_room_list(quiet), None);
    assert_eq!(hidden.recv_room_list(Duration::ZERO), None);
}

#[test]
fn a_busy_list_is_sent_at_most_every_three_seconds() {
    let server = TestServer::start(&[]);
    let mut bot = Client::connect_json(&server.ws_url("/connect?name=bot"));
    json_list_where(&mut bot, |rooms| members_in(rooms, "lobby") == Some(1));
    let first = Instant::now();
    // Right after a list, someone comes: the change waits for the three seconds to pass.
    let _guest = Client::connect_json(&server.ws_url("/connect?name=guest"));
    json_list_where(&mut bot, |rooms| members_in(rooms, "lobby") == Some(2));
    let gap = first.elapsed();
    // The first list was read within a second of being sent, so the gap is at least two.
    assert!(gap >= Duration::from_secs(2), "the second list came {gap:?} after the first");
}
