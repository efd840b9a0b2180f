//! `chatroom compact --data-dir DIR [ROOM...]`: rewrites room logs with their edits and deletes
//! folded in, so that a deleted message's text is gone from the disk, not only from view; and,
//! when every log was compacted, removes the shared files that no message shares any more
//! ([`crate::files::purge`]).
//!
//! Each message line is kept, with its number, time, name and author: an edited one gets its
//! latest text and `"edited": true`; a deleted one keeps no text (nor mentions, nor the file it
//! shared) and gets `"deleted": true`, which every reader skips. Edit and delete lines are then dropped; the host's
//! other decisions (kicks, mutes, the lock, slow mode, the banner) stay, as they still hold.
//! Lines that are not readable are kept as they are (the server skips them too). A torn last line
//! (no newline) is dropped, as the server would cut it.
//!
//! **Atomically** ([`rewrite`]): the new log is written beside the old one, fsynced, renamed over
//! it, and the directory fsynced, so a crash at any moment leaves either the old log or the new
//! one, whole. **Never under a running server**: it takes the data directory's lock
//! ([`crate::chat::data_dir`]), and refuses (exit 1) while a server holds it.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::events::{self, LogEvent};
use crate::chat::data_dir::DataDirLock;
use crate::files::purge::{self, Shared};
use crate::protocol::ChatMessage;

const USAGE: &str = "usage: chatroom compact --data-dir DIR [ROOM...]\n\
    Rewrites each room's log (all of them when no ROOM is given) with edits folded in and the\n\
    texts of deleted messages gone; message numbers and everything else are kept. Without ROOM it\n\
    also removes the shared files that no message shares any more. Refused while a server uses\n\
    DIR: stop it first.\n";

/// What a compaction did to one log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Compacted {
    /// Deleted messages whose text was removed.
    pub deleted: usize,
    /// Edited messages whose latest text was folded in.
    pub edited: usize,
    /// Edit and delete lines dropped.
    pub events_dropped: usize,
}

/// Runs `chatroom compact ...`; `args` are the arguments after `compact`.
pub fn main(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let mut dir =
        std::env::var_os("CHATROOM_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("./chatroom-data"));
    let mut rooms = Vec::new();
    let mut parser = lexopt::Parser::from_args(args);
    loop {
        match parser.next() {
            Ok(Some(lexopt::Arg::Long("data-dir"))) => match parser.value() {
                Ok(value) => dir = PathBuf::from(value),
                Err(e) => return usage_error(&e.to_string()),
            },
            Ok(Some(lexopt::Arg::Long("help") | lexopt::Arg::Short('h'))) => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            Ok(Some(lexopt::Arg::Value(room))) => {
                match room.into_string().ok().and_then(|r| crate::chat::names::room(&r)) {
                    Some(room) => rooms.push(room),
                    None => return usage_error("a ROOM is 1-32 of a-z, 0-9, _ and -"),
                }
            }
            Ok(Some(other)) => return usage_error(&other.unexpected().to_string()),
            Ok(None) => break,
            Err(e) => return usage_error(&e.to_string()),
        }
    }
    match compact_dir(&dir, &rooms) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chatroom compact: {e}");
            ExitCode::from(1)
        }
    }
}

fn usage_error(why: &str) -> ExitCode {
    eprint!("chatroom compact: {why}\n{USAGE}");
    ExitCode::from(2)
}

/// Compacts `rooms` (all the logs when empty) in `dir`, holding its lock; prints a line per log.
fn compact_dir(dir: &Path, rooms: &[String]) -> Result<(), String> {
    if !dir.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    let _lock = DataDirLock::take(dir).map_err(|e| e.to_string())?;
    let paths: Vec<PathBuf> = if rooms.is_empty() {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut all: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
            .collect();
        all.sort();
        all
    } else {
        rooms.iter().map(|room| dir.join(format!("{room}.jsonl"))).collect()
    };
    // The files the compacted logs' messages share: all of them, once every log is compacted.
    let mut shared = Shared::default();
    for path in &paths {
        if !path.exists() {
            return Err(format!("{}: no such log", path.display()));
        }
        let done = rewrite(path, &mut shared).map_err(|e| format!("{}: {e} (the log is unchanged)", path.display()))?;
        println!(
            "{}: {} deleted text(s) removed, {} edit(s) folded in, {} event line(s) dropped",
            path.display(),
            done.deleted,
            done.edited,
            done.events_dropped
        );
    }
    if !rooms.is_empty() {
        println!("files: left as they are (which ones no message shares is decided only with every log: give no ROOM)");
        return Ok(());
    }
    let purged = purge::keep_only(dir, &shared).map_err(|e| format!("{}: {e}", dir.join("files").display()))?;
    println!(
        "files: {} removed ({} bytes) that no message shares any more, {} name(s) forgotten",
        purged.files, purged.bytes, purged.names
    );
    Ok(())
}

/// Rewrites the log at `path` with its edits and deletes folded in: to `path` + `.compacting`,
/// fsynced, renamed over `path`, the directory fsynced. The files its messages still share, once
/// compacted, are added to `shared` (deleted ones share nothing).
pub fn rewrite(path: &Path, shared: &mut Shared) -> io::Result<Compacted> {
    let (amendments, _) = events::scan(path)?;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".compacting");
    let temp = path.with_file_name(name);
    let mut out = BufWriter::new(OpenOptions::new().write(true).create(true).truncate(true).open(&temp)?);
    let mut done = Compacted::default();
    let mut input = BufReader::new(File::open(path)?);
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 || line.last() != Some(&b'\n') {
            break; // the end, or a torn last line
        }
        let body = &line[..line.len() - 1];
        if events::is_event(body) {
            match serde_json::from_slice::<LogEvent>(body) {
                Ok(LogEvent::Edit { .. } | LogEvent::Delete { .. }) => done.events_dropped += 1,
                _ => out.write_all(&line)?,
            }
            continue;
        }
        let Ok(message) = serde_json::from_slice::<ChatMessage>(body) else {
            // Not ours to judge: kept as it is, and so is any file it names.
            shared.keep_any_in(body);
            out.write_all(&line)?;
            continue;
        };
        match amendments.apply(message.clone()) {
            Some(amended) => {
                if let Some(file) = &amended.file {
                    shared.add(&file.url, &file.name);
                }
                if amended == message {
                    out.write_all(&line)?;
                } else {
                    done.edited += 1;
                    write_message(&mut out, &amended)?;
                }
            }
            // Deleted already (a compaction before files were dropped with the text kept its file).
            None if message.deleted && message.file.is_none() => out.write_all(&line)?,
            None => {
                done.deleted += 1;
                let gone = ChatMessage {
                    text: String::new(),
                    mentions: Vec::new(),
                    file: None,
                    edited: false,
                    deleted: true,
                    ..message
                };
                write_message(&mut out, &gone)?;
            }
        }
    }
    let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp, path)?;
    // The rename is durable once the directory is (fsync(2) on the directory).
    File::open(path.parent().unwrap_or(Path::new(".")))?.sync_all()?;
    Ok(done)
}

fn write_message(out: &mut impl Write, message: &ChatMessage) -> io::Result<()> {
    serde_json::to_writer(&mut *out, message).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::attachment::SharedFile;

    #[test]
    fn edits_and_deletes_are_folded_in_and_the_rest_is_kept() {
        let dir = std::env::temp_dir().join(format!("chatroom-compact-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("room.jsonl");
        let message = |seq: u64, text: &str| ChatMessage {
            seq,
            ts: seq,
            name: "ann".into(),
            text: text.into(),
            by: "ab".into(),
            ..ChatMessage::default()
        };
        let mut log = String::new();
        let file = SharedFile {
            url: "/files/ab/secret.png".into(),
            name: "secret.png".into(),
            size: 1,
            media_type: "image/png".into(),
        };
        let shared = ChatMessage { file: Some(file), ..message(2, "") };
        for m in [message(1, "keep"), shared, message(3, "typo")] {
            log.push_str(&serde_json::to_string(&m).unwrap());
            log.push('\n');
        }
        log.push_str("not json\n");
        for event in [
            LogEvent::Delete { seq: 2, ts: 9 },
            LogEvent::Edit { seq: 3, text: "fixed".into(), ts: 9 },
            LogEvent::Lock { locked: true },
        ] {
            log.push_str(std::str::from_utf8(&events::line_of(&event)).unwrap());
        }
        std::fs::write(&path, &log).unwrap();
        let done = rewrite(&path, &mut Shared::default()).unwrap();
        assert_eq!(done, Compacted { deleted: 1, edited: 1, events_dropped: 2 });
        let after = std::fs::read_to_string(&path).unwrap();
        assert!(!after.contains("secret") && !after.contains("typo"), "{after}");
        let lines: Vec<&str> = after.lines().collect();
        assert_eq!(lines[0], log.lines().next().unwrap(), "an unchanged line is kept byte for byte");
        assert_eq!(lines[1], r#"{"seq":2,"ts":2,"name":"ann","text":"","by":"ab","deleted":true}"#);
        assert_eq!(lines[2], r#"{"seq":3,"ts":3,"name":"ann","text":"fixed","by":"ab","edited":true}"#);
        assert_eq!(lines[3], "not json");
        assert_eq!(lines[4], r#"{"event":"lock","locked":true}"#);
        assert_eq!(lines.len(), 5);
        // A second compaction changes nothing.
        assert_eq!(rewrite(&path, &mut Shared::default()).unwrap(), Compacted::default());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), after);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
