//! Big rooms: a crowd arriving at once is announced in batches, and rosters stay bounded, so a
//! join costs O(1) frames per member instead of O(members).

mod support;

use std::time::Instant;

use chatroom::protocol::json::Event;
use support::{is_presence, wait_until, Client, TestServer};

#[test]
fn a_crowd_is_announced_in_batches_with_a_bounded_roster() {
    let server = TestServer::start(&["--max-per-ip", "0"]);
    let (mut watcher, _) = Client::join(&server.ws_url("/r/crowd/connect?name=watcher"));
    let started = Instant::now();
    let crowd: Vec<Client> =
        (0..150).map(|i| Client::join(&server.ws_url(&format!("/r/crowd/connect?name=p{i}"))).0).collect();
    let arrival = started.elapsed();
    // Read announcements until the roster counts everyone.
    let mut announcements = 0;
    let last = wait_until("the whole crowd in the roster", || {
        let frame = watcher.recv_raw_text();
        if is_presence(&frame) || frame.starts_with(r#"<ul id="roster""#) {
            announcements += 1;
        }
        frame.contains(r#"aria-label="151 here""#).then_some(frame)
    });
    // At most two announcements a second while they came, plus the first one and the last.
    let bound = (arrival.as_secs_f64() / 0.5).ceil() as usize + 2;
    assert!(announcements <= bound, "{announcements} announcements for a crowd that took {arrival:?}");
    // Summarised, and the roster shows the first 100 names and how many more.
    assert!(last.contains("others joined") || announcements == 1, "{last}");
    assert_eq!(last.matches("<li data-name=").count(), 100, "{last}");
    assert!(last.contains(r#"<li class="more">and 51 more</li>"#), "{last}");
    // A newcomer's welcome is bounded the same way.
    let (_late, welcome) = Client::join(&server.ws_url("/r/crowd/connect?name=late"));
    assert!(welcome.contains(r#"<li class="more">and 52 more</li>"#), "{welcome}");
    drop(crowd);
}

#[test]
fn a_json_roster_of_a_big_room_says_how_many_there_are() {
    let server = TestServer::start(&["--max-per-ip", "0"]);
    let crowd: Vec<Client> =
        (0..30).map(|i| Client::join(&server.ws_url(&format!("/r/many/connect?name=p{i}"))).0).collect();
    let mut bot = Client::connect_json(&server.ws_url("/r/many/connect?name=bot"));
    bot.recv_event_where(|event| matches!(event, Event::History { .. }));
    let roster = bot.recv_event();
    let Event::Roster { members, count, .. } = &roster else { panic!("not a roster: {roster:?}") };
    assert_eq!(members.len(), 31);
    assert_eq!(*count, None, "count appears only when the list is cut: {roster:?}");
    drop(crowd);
}
