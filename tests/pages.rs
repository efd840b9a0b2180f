//! The pages are filled in one pass: whatever a visitor sends (a name, a room, where to go after
//! the access code), the served page has exactly the elements it has with a plain value, and the
//! value shows up escaped. The hostile values include every `{{slot}}` the templates use, taken
//! from the templates themselves, so a new slot is tested as soon as it exists.

mod support;

use chatroom::http::pages;
use support::{get, http_raw, now_ms, url_encode, Client, RawResponse, TestServer};

/// Markup that would break out of text or an attribute if it were not escaped (or were read again
/// as a template), besides the slot names.
const HTML: &[&str] = &[
    r#""><script>x</script>"#,
    "'",
    "&amp;",
    "</title>",
    "javascript:alert(1)",
    "<!--",
    "--><b>",
    r#"<p title="x" hx-get="/api/rooms">"#,
    "</ul></main><main>",
    "{{",
    "{{rooms",
    "{{{{room}}}}",
];

/// Every hostile value: each slot as `{{name}}`, all of them at once, and [`HTML`].
fn hostile() -> Vec<String> {
    let slots: Vec<String> = pages::slot_names().iter().map(|name| format!("{{{{{name}}}}}")).collect();
    assert!(slots.len() >= 12, "the templates' slots: {slots:?}");
    let mut values = slots.clone();
    values.push(slots.concat());
    values.extend(HTML.iter().map(|v| v.to_string()));
    values
}

/// An independent escaper for the expected bytes (not the server's own function).
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The element structure of a page: each tag in order, as `<name attr attr>` or `</name>`, with
/// the attributes' names but not their values, and nothing of the text. Reads tags the way a
/// browser does: a quoted value runs to its closing quote, and `script`, `style`, `title` and
/// `textarea` hold text up to their own closing tag.
fn structure(html: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if let Some(comment) = rest.strip_prefix("!--") {
            tags.push("<!---->".to_string());
            rest = comment.split_once("-->").map_or("", |(_, after)| after);
            continue;
        }
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!') {
            continue; // a `<` in text
        }
        let (tag, name, after) = read_tag(rest);
        tags.push(tag);
        rest = after;
        if ["script", "style", "title", "textarea"].contains(&name.as_str()) {
            let close = format!("</{name}");
            let end = rest.to_ascii_lowercase().find(&close).unwrap_or(rest.len());
            rest = &rest[end..];
        }
    }
    tags
}

/// One tag, from just after its `<`: its structure, its element name (for a start tag), and the
/// text after its `>`.
fn read_tag(text: &str) -> (String, String, &str) {
    let is_end = |c: char| c.is_ascii_whitespace() || c == '/' || c == '>' || c == '=';
    let (closing, text) = match text.strip_prefix('/') {
        Some(after) => (true, after),
        None => (false, text),
    };
    let name_end = text.find(is_end).unwrap_or(text.len());
    let name = text[..name_end].to_ascii_lowercase();
    let mut tag = format!("<{}{name}", if closing { "/" } else { "" });
    let mut rest = &text[name_end..];
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
        if rest.is_empty() {
            break;
        }
        if let Some(after) = rest.strip_prefix('>') {
            rest = after;
            break;
        }
        // An attribute's name is at least one character, even `=` (as in browsers).
        let first = rest.chars().next().map_or(0, char::len_utf8);
        let attribute_end = rest[first..].find(is_end).map_or(rest.len(), |i| i + first);
        tag.push(' ');
        tag.push_str(&rest[..attribute_end].to_ascii_lowercase());
        rest = rest[attribute_end..].trim_start();
        if let Some(value) = rest.strip_prefix('=') {
            let value = value.trim_start();
            rest = match value.chars().next() {
                Some(quote @ ('"' | '\'')) => value[1..].split_once(quote).map_or("", |(_, after)| after),
                _ => &value[value.find(|c: char| c.is_ascii_whitespace() || c == '>').unwrap_or(value.len())..],
            };
        }
    }
    tag.push('>');
    (tag, if closing { String::new() } else { name }, rest)
}

#[test]
fn the_structure_reader_sees_what_a_browser_sees() {
    assert_eq!(
        structure(r#"<!doctype html><p class="a>b" hidden data-x='"'>t < u</p><title><b></title><br/>"#),
        ["<!doctype html>", "<p class hidden data-x>", "</p>", "<title>", "</title>", "<br>"]
    );
    // What it is for: a value that breaks out of its attribute changes the structure.
    assert_ne!(structure(r#"<input value=""><script>x</script>">"#), structure(r#"<input value="a">"#));
    assert_ne!(structure(r#"<title></title><b></title>"#), structure(r#"<title>x</title>"#));
}

/// `GET path` with extra header lines.
fn get_with(server: &TestServer, path: &str, headers: &str) -> RawResponse {
    http_raw(
        server.addr,
        format!("GET {path} HTTP/1.1\r\nHost: {}\r\n{headers}Connection: close\r\n\r\n", server.addr).as_bytes(),
    )
}

/// Checks one input of one page: `fetch(value)` answers `status`, its page has the structure it
/// has for `plain`, and every needle that `shows(value)` gives is in it (the escaped value in the
/// places the value should be).
fn check(
    what: &str,
    status: u16,
    plain: &str,
    fetch: impl Fn(&str) -> RawResponse,
    shows: impl Fn(&str) -> Vec<String>,
) {
    let page = |value: &str| {
        let response = fetch(value);
        assert_eq!(response.status, status, "{what} = {value:?}");
        response.body_text()
    };
    let expected = structure(&page(plain));
    assert!(expected.len() > 10, "{what}: {expected:?}");
    for value in hostile() {
        let html = page(&value);
        let got = structure(&html);
        assert!(got == expected, "{what} = {value:?} changed the page's elements:\n{got:?}\nnot\n{expected:?}\n{html}");
        for needle in shows(&value) {
            assert!(html.contains(&needle), "{what} = {value:?}: the page lacks {needle}\n{html}");
        }
    }
}

/// Where a chat page shows its person's name, for a page at `socket`.
fn name_shown(socket: &str, name: &str) -> Vec<String> {
    let e = escaped(name);
    vec![
        format!(r#"<span id="me" data-name="{e}">{e}</span>"#),
        format!(r#"<input name="name" value="{e}""#),
        format!(r#"ws-connect="{socket}?name={}""#, url_encode(name)),
    ]
}

#[test]
fn names_cannot_change_the_chat_page() {
    let server = TestServer::start(&["--max-name", "256"]);
    for (page, socket) in [("/", "/connect"), ("/r/kitchen", "/r/kitchen/connect")] {
        let by_query = |v: &str| get(server.addr, &format!("{page}?name={}", url_encode(v)));
        check(&format!("?name= on {page}"), 200, "ann", by_query, |v| name_shown(socket, v));
        let by_cookie = |v: &str| get_with(&server, page, &format!("Cookie: chatroom_name={}\r\n", url_encode(v)));
        check(&format!("the name cookie on {page}"), 200, "ann", by_cookie, |v| name_shown(socket, v));
    }
}

#[test]
fn refused_names_cannot_change_the_notice() {
    let server = TestServer::start(&["--max-name", "256"]);
    let notice = r#"<p id="notice" class="notice error" role="alert">A name cannot contain control or text-direction characters.</p>"#;
    let fetch = |v: &str| get(server.addr, &format!("/?name={}", url_encode(&format!("{v}\u{1}"))));
    check("a refused ?name=", 200, "ann", fetch, |_| vec![notice.to_string(), r#"data-name="guest-"#.to_string()]);
}

#[test]
fn bad_room_names_cannot_change_their_page() {
    let server = TestServer::start(&[]);
    let shown = |v: &str| vec![format!("<p>{} is not a valid room name. ", escaped(v))];
    let by_form = |v: &str| get(server.addr, &format!("/r/?room={}", url_encode(v)));
    check("/r/?room=", 404, "no such room", by_form, shown);
    let by_path = |v: &str| get(server.addr, &format!("/r/{}", url_encode(v)));
    check("/r/ROOM", 404, "no such room", by_path, shown);
}

#[test]
fn where_to_go_after_the_access_code_cannot_change_the_form() {
    let server = TestServer::start(&["--access-code", "sesame"]);
    let next = |v: &str| vec![format!(r#"<input type="hidden" name="next" value="{}">"#, escaped(v))];
    let login = |v: &str| get(server.addr, &format!("/login?next={}", url_encode(v)));
    check("/login?next=", 200, "/r/kitchen", login, next);
    // Without a session, any page is the form, which comes back to the page asked for.
    let asked = |v: &str| format!("/r/kitchen?name={}", url_encode(v));
    let locked = |v: &str| get(server.addr, &asked(v));
    check("the page asked for, as next", 401, "ann", locked, |v| next(&asked(v)));
}

/// Starts a server on which the rooms `names` have history (so they are in the room list) and a
/// member each, kept for as long as the clients live. The list is sorted by members, then by the
/// millisecond each room was last active, then by name: with one member in each, and each room
/// spoken in at a later millisecond than the one before, the order is the order of `names`,
/// whatever they are. (Two rooms active in the same millisecond would fall back to their names,
/// which sort differently on two servers: that made this test fail now and then.)
fn server_with_rooms(names: &[&str]) -> (TestServer, Vec<Client>) {
    let server = TestServer::start(&[]);
    let mut members = Vec::new();
    for name in names {
        let (mut member, _) = Client::join(&server.ws_url(&format!("/r/{name}/connect?name=ann")));
        member.say("hello");
        member.recv_containing(">hello<");
        members.push(member);
        // The room's time was taken before its echo came back: wait for the clock to pass it.
        let spoken = now_ms();
        while now_ms() <= spoken {
            std::thread::yield_now();
        }
    }
    (server, members)
}

/// Room names are only `[a-z0-9_-]`, so what can be tried is rooms named like the slots.
#[test]
fn rooms_named_like_slots_are_listed_as_rooms() {
    let mut slots: Vec<&str> = pages::slot_names();
    slots.sort();
    // Plain names that sort the same way, so that each room's own page marks the same item.
    let plain: Vec<String> = (0..slots.len()).map(|i| format!("plain-{i:02}")).collect();
    let plain: Vec<&str> = plain.iter().map(String::as_str).collect();
    let (hostile_server, _hostile_members) = server_with_rooms(&slots);
    let (plain_server, _plain_members) = server_with_rooms(&plain);
    let (hostile_page, plain_page) =
        (get(hostile_server.addr, "/").body_text(), get(plain_server.addr, "/").body_text());
    assert_eq!(structure(&hostile_page), structure(&plain_page), "{hostile_page}");
    for (name, plain) in slots.iter().zip(&plain) {
        let link = format!(r#"<a href="/r/{name}">#{name}</a>"#);
        assert!(hostile_page.contains(&link), "no {link} in the room list:\n{hostile_page}");
        let own = get(hostile_server.addr, &format!("/r/{name}"));
        assert_eq!(own.status, 200);
        let own = own.body_text();
        assert!(own.contains(&format!("<title>#{name} · chatroom</title>")), "{own}");
        assert!(own.contains(&format!(r#"<a href="/r/{name}" aria-current="page">#{name}</a>"#)), "{own}");
        let plain_own = get(plain_server.addr, &format!("/r/{plain}")).body_text();
        assert_eq!(structure(&own), structure(&plain_own), "{own}");
    }
}

/// The bug as reported: `GET /?name=%7B%7Brooms%7D%7D` put the room list's HTML into
/// `value="…"` and `data-name="…"`, which broke out of the attributes.
#[test]
fn a_name_of_rooms_in_braces_stays_a_name() {
    let (server, _member) = server_with_rooms(&["kitchen"]);
    let page = get(server.addr, "/?name=%7B%7Brooms%7D%7D").body_text();
    assert!(page.contains(r#"<span id="me" data-name="{{rooms}}">{{rooms}}</span>"#), "{page}");
    assert!(page.contains(r#"<input name="name" value="{{rooms}}""#), "{page}");
    assert_eq!(page.matches(r#"<a href="/r/kitchen">"#).count(), 1, "the room list appears once:\n{page}");
    assert_eq!(structure(&page), structure(&get(server.addr, "/?name=ann").body_text()));
}
