//! Rooms: named rooms are isolated from each other, listed with their member counts on `/` and
//! `/api/rooms`; room names are canonical (lower-case) and validated; `/new` makes a private room
//! that is never listed.

mod support;

use chatroom::protocol::json::{RoomList, RoomSummary};
use support::{element, get, get_history, get_rooms, Client, TestServer};
use tungstenite::Message;

/// The room list `/api/rooms` answers with: (name, members, messages) for each room, in order.
fn room_list(rooms: &[(&str, usize, u64)]) -> RoomList {
    let rooms = rooms.iter().map(|&(name, members, messages)| RoomSummary { name: name.into(), members, messages });
    RoomList { rooms: rooms.collect() }
}

/// The room list of the page at `/`, as one `<ul>` element.
fn lobby_list(server: &TestServer) -> String {
    let page = get(server.addr, "/");
    assert_eq!(page.status, 200);
    let body = page.body_text();
    element(&body, r#"<ul id="rooms">"#, "</ul>").unwrap_or_else(|| panic!("no room list in {body}")).to_string()
}

fn list_item(href: &str, room: &str, members: usize, current: bool) -> String {
    let here = if current { r#" aria-current="page""# } else { "" };
    format!(r#"<li><a href="{href}"{here}>#{room}</a> <span class="count" title="people here">{members}</span></li>"#)
}

#[test]
fn two_rooms_are_isolated_both_ways_and_listed_with_their_counts() {
    let server = TestServer::start(&[]);
    let (mut ann, _) = Client::join(&server.ws_url("/r/alpha/connect?name=ann"));
    let (mut amy, _) = Client::join(&server.ws_url("/r/alpha/connect?name=amy"));
    let (mut bob, _) = Client::join(&server.ws_url("/r/beta/connect?name=bob"));
    let (mut ben, _) = Client::join(&server.ws_url("/r/beta/connect?name=ben"));

    // A message in alpha, fully relayed there before beta says anything.
    ann.say("only for alpha");
    for member in [&mut ann, &mut amy] {
        let got = member.recv_text();
        assert!(got.contains(r#"data-seq="1" data-name="ann">"#) && got.contains(">only for alpha<"), "{got}");
    }
    // Beta's marker is the first message beta's members get, and it is beta's seq 1: alpha's
    // message neither reached beta nor used up one of its numbers.
    bob.say("beta marker");
    for member in [&mut bob, &mut ben] {
        let first = member.recv_text();
        assert!(first.contains(r#"data-seq="1" data-name="bob">"#), "{first}");
        assert!(first.contains(r#"<span class="text">beta marker</span>"#), "{first}");
    }
    // And the other way round.
    ben.say("only for beta");
    for member in [&mut bob, &mut ben] {
        let got = member.recv_text();
        assert!(got.contains(r#"data-seq="2" data-name="ben">"#) && got.contains(">only for beta<"), "{got}");
    }
    amy.say("alpha marker");
    for member in [&mut ann, &mut amy] {
        let first = member.recv_text();
        assert!(first.contains(r#"data-seq="2" data-name="amy">"#), "{first}");
        assert!(first.contains(r#"<span class="text">alpha marker</span>"#), "{first}");
    }

    // Both rooms are listed with 2 members and 2 messages each; the lobby is always listed.
    assert_eq!(get_rooms(server.addr), room_list(&[("alpha", 2, 2), ("beta", 2, 2), ("lobby", 0, 0)]));
    assert_eq!(
        lobby_list(&server),
        format!(
            r#"<ul id="rooms">{}{}{}</ul>"#,
            list_item("/r/alpha", "alpha", 2, false),
            list_item("/r/beta", "beta", 2, false),
            list_item("/", "lobby", 0, true)
        )
    );

    // People leave: the counts follow. Beta (1 left) now sorts before alpha (0 left).
    drop(ann);
    drop(amy);
    drop(ben);
    let rooms = support::wait_until("alpha empty and beta down to 1 in /api/rooms", || {
        let rooms = get_rooms(server.addr);
        matches!(&rooms.rooms[..], [first, second, ..] if first.members == 1 && second.members == 0).then_some(rooms)
    });
    assert_eq!(rooms, room_list(&[("beta", 1, 2), ("alpha", 0, 2), ("lobby", 0, 0)]));
    assert_eq!(
        lobby_list(&server),
        format!(
            r#"<ul id="rooms">{}{}{}</ul>"#,
            list_item("/r/beta", "beta", 1, false),
            list_item("/r/alpha", "alpha", 0, false),
            list_item("/", "lobby", 0, true)
        )
    );
    // A room's own page marks it as the current one.
    let page = get(server.addr, "/r/beta").body_text();
    assert!(page.contains(&list_item("/r/beta", "beta", 1, true)), "{page}");
    drop(bob);
}

#[test]
fn lobby_is_both_slash_and_r_lobby() {
    let server = TestServer::start(&[]);
    let (mut via_root, welcome) = Client::join(&server.ws_url("/connect?name=root"));
    assert!(welcome.contains(r#"data-name="root""#), "{welcome}");
    let (mut via_room, _) = Client::join(&server.ws_url("/r/lobby/connect?name=named"));
    via_root.say("same room");
    let got = via_room.recv_text();
    assert!(got.contains(r#"data-seq="1" data-name="root">"#) && got.contains(">same room<"), "{got}");
    assert!(via_root.recv_text().contains(">same room<"));
    assert_eq!(get_rooms(server.addr), room_list(&[("lobby", 2, 1)]));
}

#[test]
fn room_names_are_lower_case_and_other_names_get_an_explanation() {
    let server = TestServer::start(&[]);
    // Upper case: a permanent redirect to the canonical name, keeping the query.
    let response = get(server.addr, "/r/Kitchen");
    assert_eq!(response.status, 308);
    assert_eq!(response.header("Location").as_deref(), Some("/r/kitchen"));
    let response = get(server.addr, "/r/KITCHEN-2_b?name=ann");
    assert_eq!(response.status, 308);
    assert_eq!(response.header("Location").as_deref(), Some("/r/kitchen-2_b?name=ann"));
    // The canonical names themselves are served, up to 32 characters.
    for room in ["kitchen", "kitchen-2_b", "0", &"a".repeat(32)] {
        let response = get(server.addr, &format!("/r/{room}"));
        assert_eq!(response.status, 200, "{room}");
        assert!(response.body_text().contains(&format!("<h1>#{room}</h1>")), "{room}");
    }
    // Anything else: 404 with a page saying what a valid name is.
    let thirty_three = "a".repeat(33);
    for (path, shown) in [
        ("/r/no%20spaces", "no spaces"),
        (&format!("/r/{thirty_three}"), thirty_three.as_str()),
        ("/r/..", ".."),
        ("/r/caf%C3%A9", "café"),
        ("/r/%3Cscript%3E", "&lt;script&gt;"),
        ("/r/a.b", "a.b"),
    ] {
        let response = get(server.addr, path);
        assert_eq!(response.status, 404, "{path}");
        assert!(response.header("Content-Type").unwrap().starts_with("text/html"), "{path}");
        let body = response.body_text();
        assert!(
            body.contains(&format!(
                "<p>{shown} is not a valid room name. A room name is 1 to 32 characters: letters a-z, digits, \
                 &#39;-&#39; and &#39;_&#39;.</p>"
            )),
            "{path}: {body}"
        );
        assert!(!body.contains("<script>"), "{path}");
    }
    // The room's WebSocket and history endpoints refuse bad names too.
    assert_eq!(get(server.addr, "/r/no%20spaces/history").status, 404);
    let refused = Client::try_connect(&server.ws_url("/r/no%20spaces/connect"), &[]);
    match refused {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 404),
        Err(e) => panic!("expected a 404 answer, got {e}"),
        Ok(_) => panic!("a WebSocket opened for an invalid room"),
    }
    // The "go to room" form lands on the canonical room, or explains.
    let response = get(server.addr, "/r/?room=+Kitchen+");
    assert_eq!(response.status, 303);
    assert_eq!(response.header("Location").as_deref(), Some("/r/kitchen"));
    let response = get(server.addr, "/r/?room=no+way");
    assert_eq!(response.status, 404);
    assert!(response.body_text().contains("<p>no way is not a valid room name."));
}

/// Whether `name` looks like a private room: 26 characters of RFC 4648 base32, lower-cased.
fn is_private_name(name: &str) -> bool {
    name.len() == 26 && name.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

#[test]
fn new_makes_an_unguessable_private_room_that_is_never_listed() {
    let server = TestServer::start(&[]);
    let mut names = Vec::new();
    for _ in 0..2 {
        let response = get(server.addr, "/new");
        assert_eq!(response.status, 303);
        assert_eq!(response.header("Cache-Control").as_deref(), Some("no-store"));
        let location = response.header("Location").expect("a Location");
        let name = location.strip_prefix("/r/").unwrap_or_else(|| panic!("Location {location}")).to_string();
        assert!(is_private_name(&name), "{name}");
        names.push(name);
    }
    assert_ne!(names[0], names[1], "two private rooms got the same name");
    let private = &names[0];
    assert_eq!(get(server.addr, &format!("/r/{private}")).status, 200);

    // People join it and talk; it still appears nowhere.
    let (mut ann, _) = Client::join(&server.ws_url(&format!("/r/{private}/connect?name=ann")));
    let (mut bob, _) = Client::join(&server.ws_url(&format!("/r/{private}/connect?name=bob")));
    ann.say("psst");
    assert!(bob.recv_text().contains(r#"data-seq="1" data-name="ann">"#));
    assert!(ann.recv_text().contains(">psst<"));
    // (A public room with people, for comparison: listed.)
    let (_carol, _) = Client::join(&server.ws_url("/r/public/connect?name=carol"));
    assert_eq!(get_rooms(server.addr), room_list(&[("public", 1, 0), ("lobby", 0, 0)]));
    let page = get(server.addr, "/").body_text();
    assert!(!page.contains(private.as_str()), "the lobby page shows the private room");
    assert!(page.contains(&list_item("/r/public", "public", 1, false)));
    let page = get(server.addr, "/r/public").body_text();
    assert!(!page.contains(private.as_str()), "a room page shows the private room");
    // Its history is there for those who know the name.
    let history = get_history(server.addr, &format!("/r/{private}/history"));
    assert_eq!(history.messages.len(), 1);
    assert_eq!(history.messages[0].message().text, "psst");
}

#[test]
fn a_room_visited_in_silence_leaves_nothing_behind() {
    // Joining makes a room (and its log file); if nobody said anything, leaving forgets both, so
    // trying many room names does not grow the registry or the data dir.
    let server = TestServer::start(&[]);
    let log = server.data_dir().unwrap().join("passing.jsonl");
    let (visitor, _) = Client::join(&server.ws_url("/r/passing/connect?name=v"));
    assert!(log.exists(), "the log is made on joining");
    drop(visitor);
    support::wait_until("the empty room to be forgotten", || (!log.exists()).then_some(()));
    let rooms = get_rooms(server.addr);
    assert!(rooms.rooms.iter().all(|r| r.name != "passing"), "{rooms:?}");
    // A room where something was said keeps its log after everyone left.
    let (mut talker, _) = Client::join(&server.ws_url("/r/kept/connect?name=t"));
    talker.say("stays");
    talker.recv_containing(">stays<");
    drop(talker);
    let kept = get_history(server.addr, "/r/kept/history");
    assert_eq!(kept.messages.first().map(|m| m.message().text.as_ref()), Some("stays"));
    assert!(server.data_dir().unwrap().join("kept.jsonl").exists());
}

/// Says one message in `room` as a JSON client, and leaves.
fn visit(server: &TestServer, room: &str, text: &str) -> u64 {
    let (mut client, _) = Client::join_json(&server.ws_url(&format!("/r/{room}/connect?name=visitor")));
    client.say_json(text);
    let seq = client.recv_message().seq;
    client.ws.close(None).unwrap();
    while client.ws.read().is_ok() {}
    seq
}

/// Finding (issue 12): rooms were never forgotten: each kept its log open and its history in
/// memory for ever, and stayed in the list (3,000 one-message rooms: 3,007 open files). Now at
/// most `--max-rooms` rooms are in memory; the others are put away and come back from their logs.
#[test]
fn rooms_are_put_away_and_come_back_from_their_logs() {
    let server = TestServer::start(&["--max-rooms", "4", "--rate-limit", "0"]);
    let files_at_start = server.open_files();
    for i in 0..30 {
        assert_eq!(visit(&server, &format!("room-{i}"), &format!("hello {i}")), 1);
    }
    // 30 rooms visited, at most 4 in memory: the open files did not grow with them.
    let files_now = server.open_files();
    assert!(files_now <= files_at_start + 4 + 2, "{files_at_start} open files at start, {files_now} now");
    // A room put away still has its history, through the API and when someone comes back.
    let history = get_history(server.addr, "/r/room-0/history");
    assert_eq!(history.messages.len(), 1);
    assert_eq!(history.messages[0].message().text, "hello 0");
    let (mut back, welcome) = Client::join_json(&server.ws_url("/r/room-0/connect?name=back"));
    assert_eq!(welcome.history.iter().map(|m| m.text.to_string()).collect::<Vec<_>>(), ["hello 0"]);
    back.say_json("again");
    assert_eq!(back.recv_message().seq, 2, "numbering goes on after the room came back");
    // The list still shows rooms active today, in memory or not.
    let listed = get_rooms(server.addr);
    assert!(listed.rooms.iter().any(|r| r.name == "room-7" && r.messages == 1), "{listed:?}");
}

/// Joins `path` as a JSON client, asking again while the server answers 1013 (no room for it
/// yet, as a room being left lets go of its last handle a moment after its members' Close): what
/// the page does by itself.
fn join_when_there_is_room(server: &TestServer, path: &str) -> Client {
    support::wait_until(&format!("room for {path}"), || {
        let mut client = Client::connect_json(&server.ws_url(path));
        match client.recv_within(support::TIMEOUT) {
            Some(Message::Text(_)) => Some(client),
            Some(Message::Close(Some(frame))) if u16::from(frame.code) == 1013 => None,
            other => panic!("neither the welcome nor 1013: {other:?}"),
        }
    })
}

/// Leaves: closes, and reads until the server's Close comes back.
fn leave(mut client: Client) {
    client.ws.close(None).unwrap();
    while client.ws.read().is_ok() {}
}

#[test]
fn a_full_server_refuses_a_new_room_with_1013_and_lets_it_in_later() {
    let server = TestServer::start(&["--max-rooms", "2", "--memory"]);
    let (_a, _) = Client::join_json(&server.ws_url("/r/one/connect?name=a"));
    let (mut b, _) = Client::join_json(&server.ws_url("/r/two/connect?name=b"));
    // Both rooms have people in them: a third cannot be opened, and is told why.
    let mut third = Client::connect_json(&server.ws_url("/r/three/connect?name=c"));
    let close = third.expect_close();
    assert_eq!(u16::from(close.code), 1013);
    assert!(close.reason.contains("rooms open"), "{}", close.reason);
    // Once a room empties, the newcomer gets in.
    b.say_json("before");
    assert_eq!(b.recv_message().seq, 1);
    leave(b);
    leave(join_when_there_is_room(&server, "/r/three/connect?name=c"));
    // `--memory`: a room put away lost its history, but it numbers on, so that a number is
    // never reused within the server's life.
    let mut b = join_when_there_is_room(&server, "/r/two/connect?name=b");
    let notice = b.recv_event(); // after the history (read above) come the roster and the notice
    assert!(matches!(notice, chatroom::protocol::json::Event::Roster { .. }), "{notice:?}");
    b.say_json("after");
    assert!(b.recv_message().seq > 1, "a number was reused");
}
