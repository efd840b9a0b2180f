//! The search benchmark's own checks: its HTTP reading and its log.

use super::*;

#[test]
fn dechunk_joins_the_chunks_and_stops_at_the_last() {
    assert_eq!(dechunk(b"3\r\nabc\r\na\r\n0123456789\r\n0\r\n\r\n").unwrap(), b"abc0123456789");
    assert!(dechunk(b"5\r\nab").is_err());
    assert!(dechunk(b"zz\r\n").is_err());
}

#[test]
fn median_of_odd_and_even_counts() {
    assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    assert!(median(&[]).is_nan());
}

#[test]
fn the_log_is_json_lines_with_the_rare_word_planted_and_the_absent_one_absent() {
    let dir = std::env::temp_dir().join(format!("chatroom-bench-search-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("room.jsonl");
    let (bytes, messages) = write_log(&log, 200_000).unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(text.len() as u64, bytes);
    assert!(bytes >= 200_000);
    assert_eq!(text.lines().count() as u64, messages);
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(value["seq"].is_u64() && value["ts"].is_u64() && value["name"].is_string());
    }
    let lower = text.to_lowercase();
    assert_eq!(lower.lines().filter(|line| line.contains(RARE)).count(), PLANTED);
    assert!(!lower.contains(ABSENT));
}
