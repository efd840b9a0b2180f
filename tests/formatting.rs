//! Links and code: the page's dialect carries a message's text formatted (links, inline code,
//! code blocks; nothing else), the JSON dialect carries it raw, and so do the log and the history
//! API; "load older messages" gets the same markup as the live message. Messages keep their lines.

mod support;

use chatroom::protocol::json::Event;
use support::{element, get, Client, TestServer};

/// What Ann says: a link with a sentence's punctuation after it, inline code, a code block with a
/// language word, markup and a `javascript:` URL that must stay text.
const SAID: &str = "see https://example.org/a_(b). and `ls -l`\n```sh\necho '<hi>' && exit\n```\n\
                    javascript:alert(1) <b>not bold</b>";

/// The `<span class="text">` of that message, as the page gets it.
const SHOWN: &str = concat!(
    r#"<span class="text">see <a href="https://example.org/a_(b)" rel="noopener noreferrer nofollow" "#,
    r#"target="_blank">https://example.org/a_(b)</a>. and <code>ls -l</code>"#,
    r#"<pre data-lang="sh"><button type="button" class="copy" aria-label="Copy code"></button>"#,
    r#"<code>echo &#39;&lt;hi&gt;&#39; &amp;&amp; exit</code></pre>"#,
    r#"javascript:alert(1) &lt;b&gt;not bold&lt;/b&gt;</span>"#,
);

#[test]
fn the_page_gets_the_text_formatted_and_json_clients_get_it_raw() {
    let server = TestServer::start(&[]);
    let (mut page, _) = Client::join(&server.ws_url("/r/code/connect?name=bob"));
    let (mut json, _) = Client::join_json(&server.ws_url("/r/code/connect?name=carl"));
    let (mut ann, _) = Client::join_json(&server.ws_url("/r/code/connect?name=ann"));
    ann.say_json(SAID);

    let fragment = page.recv_containing("example.org");
    let item = element(&fragment, r#"<li class="message""#, "</li>").expect("a message item");
    assert!(item.ends_with(&format!("{SHOWN}</li>")), "{item}");
    // The name is only escaped, however it looks.
    assert!(item.contains(r#"data-name="ann"><time"#), "{item}");

    let (_, raw) = json.recv_event_text_where(|e| matches!(e, Event::Message(_)));
    let message: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(message["text"], SAID, "{raw}");
    assert!(!raw.contains("<a ") && !raw.contains("<code>") && !raw.contains("&lt;"), "{raw}");
}

#[test]
fn history_is_stored_raw_and_older_pages_come_formatted() {
    let server = TestServer::start(&[]);
    let (mut ann, _) = Client::join_json(&server.ws_url("/r/kept/connect?name=ann"));
    ann.say_json(SAID);
    ann.recv_message();
    ann.say_json("a later message");
    ann.recv_message();

    let page = support::get_history(server.addr, "/r/kept/history");
    assert_eq!(page.messages[0].message().text, SAID);
    let log = std::fs::read_to_string(server.data_dir().unwrap().join("kept.jsonl")).unwrap();
    assert!(
        log.lines().next().unwrap().contains(r#""text":"see https://example.org/a_(b). and `ls -l`\n```sh"#),
        "{log}"
    );

    // "Load older messages" asks for `format=html`: the same markup as the live item.
    let older = get(server.addr, "/r/kept/history?before=2&format=html");
    assert_eq!(older.status, 200);
    let older = older.body_text();
    assert!(older.contains(&format!("{SHOWN}</li>")), "{older}");
    // And a page that joins later gets it in its welcome.
    let (_, welcome) = Client::join(&server.ws_url("/r/kept/connect?name=zed"));
    assert!(welcome.contains(&format!("{SHOWN}</li>")), "{welcome}");
}

#[test]
fn messages_keep_their_lines_and_tabs() {
    let server = TestServer::start(&[]);
    let (mut page, _) = Client::join(&server.ws_url("/r/lines/connect?name=bob"));
    let (mut ann, _) = Client::join_json(&server.ws_url("/r/lines/connect?name=ann"));
    // As a text area sends it; and CR LF from a JSON client on Windows, read as LF.
    ann.say_json("\n  first line\n\tindented\n\nafter a blank  \n");
    assert_eq!(ann.recv_message().text, "first line\n\tindented\n\nafter a blank");
    let fragment = page.recv_containing("first line");
    assert!(fragment.contains("<span class=\"text\">first line\n\tindented\n\nafter a blank</span>"), "{fragment}");
    ann.say_json("one\r\ntwo\rthree");
    assert_eq!(ann.recv_message().text, "one\ntwo\nthree");
    // Any other control character is refused, to the sender only, with the reason.
    ann.say_json("clear \u{1b}[2J the screen");
    match ann.recv_event_where(|e| matches!(e, Event::Error { .. } | Event::Message(_))) {
        Event::Error { text } => assert!(text.contains("control character U+001B"), "{text}"),
        other => panic!("relayed: {other:?}"),
    }
}
