//! Searching a room's history: the messages whose text or name holds the query, ignoring case,
//! newest first, read from the end of the log in bounded memory whatever its size.
//!
//! **Matching.** Text, name and query are compared after [`fold`]: each character lower-cased on
//! its own (Unicode's full lower-case mapping, so `É` is `é` and `İ` is `i̇`), and a final sigma
//! `ς` read as `σ`. That is close to Unicode case folding without its tables; what it does not
//! do is expand (`ß` does not match `ss`).
//!
//! **Speed: most lines are never parsed.** A log line is the JSON of a message, and serde_json
//! writes every character as itself except `"`, `\` and control characters. So if a message's
//! folded text holds the folded query, its raw line, ASCII-lower-cased, holds the query's longest
//! run of ASCII characters that JSON writes as themselves ([`Query::needle`]), with two exceptions
//! left out of the run: `i` and `k`, the only ASCII letters that a non-ASCII character lower-cases
//! to (`İ` and the Kelvin sign `K`). Each region of the log is lower-cased in one pass and
//! searched for that run with `memchr`'s SIMD substring search; only the lines it lands in are
//! parsed and checked exactly. A line holding a `\u` escape is always checked too, in case
//! something other than serde_json wrote it. A query with no such run (`é`, `ik`) parses every
//! line: correct, only slower.

use std::io;

use memchr::memmem::Finder;

use super::archive::{Archive, Snapshot};
use crate::protocol::ChatMessage;

/// A search, ready to run against many lines.
#[derive(Debug, Clone)]
pub struct Query {
    /// The query, folded.
    folded: String,
    /// What every raw log line that can match holds, ASCII-lower-cased (perhaps nothing).
    needle: Vec<u8>,
}

/// What a search found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// The matching messages, newest first.
    pub messages: Vec<ChatMessage>,
    /// Whether older ones match too (search again with `before` = the last `seq` here).
    pub more: bool,
}

/// `text` with each character lower-cased on its own, and final sigma read as sigma: what
/// search compares (see the module's notes).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        out.push(if c == 'ς' { 'σ' } else { c });
    }
    out
}

/// The ASCII characters a non-ASCII character lower-cases to (`İ` → `i̇`, Kelvin `K` → `k`):
/// a raw line need not hold them where its folded text does.
const FOLDED_FROM_ELSEWHERE: &[u8] = b"ik";

impl Query {
    /// A search for `text` (not empty).
    pub fn new(text: &str) -> Query {
        let folded = fold(text);
        let usable = |b: &u8| {
            b.is_ascii() && !b.is_ascii_control() && *b != b'"' && *b != b'\\' && !FOLDED_FROM_ELSEWHERE.contains(b)
        };
        let needle = folded.as_bytes().split(|b| !usable(b)).max_by_key(|run| run.len()).unwrap_or_default().to_vec();
        Query { folded, needle }
    }

    /// What every raw line that can match holds, lower-cased (empty: no such test).
    pub fn needle(&self) -> &[u8] {
        &self.needle
    }

    /// Whether `message`'s text or name, or the name of the file it shares, holds the query, case
    /// ignored. (A file's name is in its log line as itself too, so the prefilter holds.)
    pub fn matches(&self, message: &ChatMessage) -> bool {
        let held = |text: &str| fold(text).contains(&self.folded);
        held(&message.text) || held(&message.name) || message.file.as_ref().is_some_and(|file| held(&file.name))
    }
}

impl Archive {
    /// Up to `limit` messages with `seq < before` that match `query`, newest first, and whether
    /// older ones match too.
    pub fn search(&self, query: &Query, before: u64, limit: usize) -> io::Result<Found> {
        match self {
            Archive::Memory(messages) => {
                let mut hits = messages.iter().rev().filter(|m| m.seq < before && query.matches(m));
                let found: Vec<ChatMessage> = hits.by_ref().take(limit).cloned().collect();
                Ok(Found { messages: found, more: hits.next().is_some() })
            }
            Archive::Log(snapshot) => search_log(snapshot, query, before, limit),
        }
    }
}

/// [`Archive::search`] on a log: backwards from the first line numbered `before` or more, region
/// by region, parsing only the lines the raw test lands in.
fn search_log(snapshot: &Snapshot, query: &Query, before: u64, limit: usize) -> io::Result<Found> {
    let mut found = Found::default();
    let mut regions = snapshot.regions_before(snapshot.end_before(before)?);
    // Forward searches, which memchr speeds up with SIMD (its backward ones do without).
    // An edited message's new text is not in its own line: with edits, every line is read.
    let needle =
        (!query.needle().is_empty() && !snapshot.amendments().has_edits()).then(|| Finder::new(query.needle()));
    let escape = Finder::new(b"\\u");
    let mut lowered = Vec::new();
    // Where the lines that may match start, in this region, in file order.
    let mut candidates = Vec::new();
    while let Some(region) = regions.next_region()? {
        candidates.clear();
        match &needle {
            Some(needle) => {
                lowered.clear();
                lowered.extend(region.iter().map(u8::to_ascii_lowercase));
                let hits = needle.find_iter(&lowered).chain(escape.find_iter(region));
                candidates.extend(hits.map(|hit| memchr::memrchr(b'\n', &region[..hit]).map_or(0, |i| i + 1)));
                // A line may be hit more than once, and escapes come after the needle's hits.
                candidates.sort_unstable();
                candidates.dedup();
            }
            // Nothing to look for in the raw bytes: every line is a candidate.
            None => {
                candidates.push(0);
                candidates.extend(memchr::memchr_iter(b'\n', region).map(|i| i + 1).filter(|&at| at < region.len()));
            }
        }
        for &start in candidates.iter().rev() {
            let stop = start + memchr::memchr(b'\n', &region[start..]).unwrap_or(region.len() - start);
            let Ok(message) = serde_json::from_slice::<ChatMessage>(&region[start..stop]) else { continue };
            let Some(message) = snapshot.amendments().apply(message) else { continue };
            if message.seq < before && query.matches(&message) {
                if found.messages.len() == limit {
                    found.more = true;
                    return Ok(found);
                }
                found.messages.push(message);
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: u64, name: &str, text: &str) -> ChatMessage {
        ChatMessage {
            seq,
            ts: 1_000 + seq,
            name: name.into(),
            text: text.into(),
            mentions: vec![],
            ..ChatMessage::default()
        }
    }

    fn log_of(tag: &str, lines: &[u8]) -> Archive {
        let dir = std::env::temp_dir().join(format!("chatroom-search-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("room.jsonl");
        std::fs::write(&path, lines).unwrap();
        Archive::Log(Snapshot::open(&path).unwrap().unwrap())
    }

    fn jsonl(messages: &[ChatMessage]) -> Vec<u8> {
        messages.iter().flat_map(|m| [serde_json::to_vec(m).unwrap(), b"\n".to_vec()]).flatten().collect()
    }

    fn seqs(found: &Found) -> Vec<u64> {
        found.messages.iter().map(|m| m.seq).collect()
    }

    #[test]
    fn only_i_and_k_come_from_non_ascii_characters() {
        // The raw test's soundness rests on this: check it against every character there is.
        let mut from_elsewhere: Vec<u8> = (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .filter(|c| !c.is_ascii())
            .flat_map(|c| fold(&c.to_string()).into_bytes())
            .filter(u8::is_ascii)
            .collect();
        from_elsewhere.sort_unstable();
        from_elsewhere.dedup();
        assert_eq!(from_elsewhere, FOLDED_FROM_ELSEWHERE);
    }

    #[test]
    fn the_needle_is_the_longest_run_a_raw_line_must_hold() {
        assert_eq!(Query::new("Hello World").needle(), b"hello world");
        assert_eq!(Query::new("kitchen sink").needle(), b"tchen s");
        assert_eq!(Query::new("say \"hi\" über-cool").needle(), b"ber-cool");
        assert_eq!(Query::new("ÉÉ").needle(), b"");
        assert_eq!(Query::new("a\\b\tcd").needle(), b"cd");
    }

    #[test]
    fn case_is_ignored_in_text_and_name_beyond_ascii() {
        let all = [
            message(1, "Ann", "Crème BRÛLÉE tonight"),
            message(2, "ÉMILE", "bonjour"),
            message(3, "bob", "say \"quoted\" and back\\slash\tand\nlines"),
            message(4, "bob", "a 5 K resistor"),
            message(5, "bob", "İstanbul"),
            message(6, "bob", "ΟΔΥΣΣΕΥΣ"),
            message(7, "bob", "nothing here"),
        ];
        let file = log_of("case", &jsonl(&all));
        let memory = Archive::Memory(all.to_vec());
        for (query, expected) in [
            ("brûlée", vec![1]),
            ("ann", vec![1]),
            ("émile", vec![2]),
            ("\"QUOTED\" AND BACK\\", vec![3]),
            ("\tAND\nLINES", vec![3]),
            ("5 k res", vec![4]),
            ("i̇stan", vec![5]),
            ("οδυσσευσ", vec![6]),
            ("ς", vec![6]),
            ("bob", vec![7, 6, 5, 4, 3]),
            ("absent", vec![]),
        ] {
            for archive in [&file, &memory] {
                let found = archive.search(&Query::new(query), u64::MAX, 50).unwrap();
                assert_eq!(seqs(&found), expected, "{query:?}");
                assert!(!found.more);
            }
        }
    }

    #[test]
    fn a_shared_file_is_found_by_its_name() {
        let mut shared = message(2, "ann", "");
        shared.file = Some(crate::protocol::attachment::SharedFile {
            url: "/files/ab/Lunch%20Menu.pdf".into(),
            name: "Lunch Menu.pdf".into(),
            size: 5,
            media_type: "application/pdf".into(),
        });
        let all = [message(1, "bob", "menu?"), shared];
        let file = log_of("files", &jsonl(&all));
        let memory = Archive::Memory(all.to_vec());
        for archive in [&file, &memory] {
            assert_eq!(seqs(&archive.search(&Query::new("lunch menu"), u64::MAX, 50).unwrap()), vec![2]);
            assert_eq!(seqs(&archive.search(&Query::new("MENU"), u64::MAX, 50).unwrap()), vec![2, 1]);
        }
    }

    #[test]
    fn lines_written_with_other_escapes_are_still_checked() {
        // `\u0041` is `A`: serde_json never writes that, but whoever wrote this log did.
        let file = log_of("escapes", b"{\"seq\":1,\"ts\":1,\"name\":\"x\",\"text\":\"\\u0041BC\"}\n");
        assert_eq!(seqs(&file.search(&Query::new("abc"), u64::MAX, 5).unwrap()), [1]);
    }

    #[test]
    fn pages_back_with_before_and_says_when_there_is_more() {
        let all: Vec<ChatMessage> = (1..=20_000u64)
            .map(|seq| {
                message(
                    seq,
                    "ann",
                    &format!(
                        "{} {seq} {}",
                        if seq % 7 == 0 { "Needle" } else { "hay" },
                        "x".repeat((seq % 90) as usize)
                    ),
                )
            })
            .collect();
        let file = log_of("pages", &jsonl(&all));
        let query = Query::new("needle");
        let expected: Vec<u64> = (1..=20_000u64).rev().filter(|s| s % 7 == 0).collect();
        let mut got = Vec::new();
        let mut before = u64::MAX;
        loop {
            let found = file.search(&query, before, 200).unwrap();
            got.extend(seqs(&found));
            if !found.more {
                break;
            }
            before = found.messages.last().unwrap().seq;
        }
        assert_eq!(got, expected);
        let found = file.search(&query, 15, 1).unwrap();
        assert_eq!((seqs(&found), found.more), (vec![14], true));
        let found = file.search(&query, 8, 1).unwrap();
        assert_eq!((seqs(&found), found.more), (vec![7], false));
        // With no needle at all, every line is parsed: the same answers.
        let found = file.search(&Query::new("ik"), u64::MAX, 3).unwrap();
        assert!(found.messages.is_empty() && !found.more);
    }

    #[test]
    fn corrupt_lines_are_skipped() {
        let mut lines = jsonl(&[message(1, "ann", "needle one")]);
        lines.extend_from_slice(b"{\"seq\":2,\"needle\0\0\n\0\0\0\n");
        lines.extend(jsonl(&[message(3, "ann", "needle three")]));
        let found = log_of("corrupt", &lines).search(&Query::new("NEEDLE"), u64::MAX, 10).unwrap();
        assert_eq!(seqs(&found), [3, 1]);
    }
}
