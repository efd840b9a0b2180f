//! `GET /r/ROOM/export?format=txt|jsonl|html`: a room's whole history as a file to download,
//! `ROOM-YYYY-MM-DD.EXT` (today, UTC), oldest message first.
//!
//! It is read from a snapshot of the log ([`crate::chat::history::Archive`]) and written while it
//! is read ([`super::streamed`]), a piece at a time, without the room lock: a 100 MB log costs
//! the server a region of the file and a piece of output, not 100 MB.
//!
//! | format | what | framing |
//! |---|---|---|
//! | `jsonl` | the log's lines byte for byte, up to its last whole line (a corrupt line included: it is a copy of the file); once the log holds event lines (edits, deletes, the host's decisions), one line per message as readers see it, deleted ones left out | `Content-Length`; chunked once rendered |
//! | `txt` | one line per message ([`transcript`]); corrupt lines are skipped, as the history API skips them | chunked |
//! | `html` | one standalone page ([`transcript`]), same messages as `txt` | chunked |
//!
//! A room kept in memory only (`--memory`) exports the messages it holds, its `jsonl` written
//! as the log would hold them.

use crate::chat::history::archive::{Archive, Messages, Snapshot};
use crate::http::head::Request;
use crate::http::response::Response;
use crate::http::streamed::{BodySource, Framing, Streamed, PIECE};
use crate::protocol::transcript;
use crate::shared::Shared;
use crate::time::{now_ms, rfc3339};

/// What the export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Txt,
    Jsonl,
    Html,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Txt => "txt",
            Format::Jsonl => "jsonl",
            Format::Html => "html",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Txt => "text/plain; charset=utf-8",
            Format::Jsonl => "application/jsonl",
            Format::Html => "text/html; charset=utf-8",
        }
    }
}

/// `GET /r/ROOM/export?format=...`.
pub fn export(request: &Request, shared: &Shared, room: &str) -> Response {
    let format = match request.query_param("format").as_deref() {
        Some("txt") => Format::Txt,
        Some("jsonl") => Format::Jsonl,
        Some("html") => Format::Html,
        _ => return Response::text(400, "format must be txt, jsonl or html."),
    };
    let archive = match shared.rooms.archive(room) {
        Ok(archive) => archive,
        Err(e) => {
            crate::log::error(format_args!("reading history of {room} for an export: {e}"));
            return Response::text(500, "Could not read the history log.");
        }
    };
    let now = now_ms();
    // Only a length known before the first byte can be announced; otherwise chunks, which an
    // HTTP/1.0 client does not know (RFC 9112 §7.1): it gets a body that ends with the connection.
    let unknown = if request.minor_version >= 1 { Framing::Chunked } else { Framing::UntilClose };
    let (framing, source): (Framing, Box<dyn BodySource>) = match (format, archive) {
        // A log with event lines (edits, deletes, the host's decisions) is written message by
        // message instead, with those applied.
        (Format::Jsonl, Archive::Log(snapshot)) if snapshot.amendments().is_empty() => {
            (Framing::Length(snapshot.len()), Box::new(LogBytes { snapshot, offset: 0 }))
        }
        (format, archive) => {
            let pages = Pages {
                format,
                room: room.to_string(),
                now,
                messages: archive.into_messages(),
                stage: Stage::Head,
                count: 0,
            };
            (unknown, Box::new(pages))
        }
    };
    let filename = format!("{room}-{}.{}", &rfc3339(now)[..10], format.extension());
    let response = Response::streamed(200, format.content_type(), Streamed { framing, source })
        .with_header("Content-Disposition", format!("attachment; filename=\"{filename}\""))
        .with_header("Cache-Control", "no-store");
    match format {
        Format::Html => response.with_header("Content-Security-Policy", transcript::html_policy()),
        _ => response,
    }
}

/// A log's bytes, as they are, up to the snapshot's end.
struct LogBytes {
    snapshot: Snapshot,
    offset: u64,
}

impl BodySource for LogBytes {
    fn next_piece(&mut self, out: &mut Vec<u8>) -> std::io::Result<bool> {
        out.resize(PIECE, 0);
        let n = self.snapshot.read_at(out, self.offset)?;
        out.truncate(n);
        self.offset += n as u64;
        Ok(self.offset < self.snapshot.len())
    }
}

/// Where a rendered export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Head,
    Messages,
    Done,
}

/// A room's messages, rendered one by one into pieces.
struct Pages {
    format: Format,
    room: String,
    now: u64,
    messages: Messages,
    stage: Stage,
    count: u64,
}

impl BodySource for Pages {
    fn next_piece(&mut self, out: &mut Vec<u8>) -> std::io::Result<bool> {
        let mut text = String::with_capacity(PIECE + PIECE / 4);
        if self.stage == Stage::Head {
            if self.format == Format::Html {
                transcript::html_head(&mut text, &self.room, self.now);
            }
            self.stage = Stage::Messages;
        }
        while self.stage == Stage::Messages && text.len() < PIECE {
            match self.messages.next().transpose()? {
                Some(message) => {
                    self.count += 1;
                    match self.format {
                        Format::Txt => transcript::txt_message(&mut text, &message),
                        Format::Html => transcript::html_message(&mut text, &message),
                        Format::Jsonl => {
                            text.push_str(&serde_json::to_string(&message).expect("a message always serialises"));
                            text.push('\n');
                        }
                    }
                }
                None => {
                    if self.format == Format::Html {
                        transcript::html_foot(&mut text, self.count);
                    }
                    self.stage = Stage::Done;
                }
            }
        }
        out.extend_from_slice(text.as_bytes());
        Ok(self.stage != Stage::Done)
    }
}
