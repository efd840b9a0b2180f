//! The flag rows agree with themselves: defaults survive `--help`, every flag is listed with its
//! variable, ranges hold, and the environment comes before the command line.

use std::collections::HashSet;
use std::ffi::OsString;

use super::*;

/// Parses `args` with the environment `env` (pairs of variable and value) instead of the real one.
fn parse_with_env(env: &[(&str, &str)], args: &[&str]) -> Result<Config, String> {
    let env = |var: &str| env.iter().find(|(name, _)| *name == var).map(|(_, value)| OsString::from(value));
    match Config::from_env_and_args(env, args.iter().map(OsString::from))? {
        Command::Serve(c) => Ok(*c),
        Command::Print(_) => Err("printed".into()),
    }
}

fn parse(args: &[&str]) -> Result<Config, String> {
    parse_with_env(&[], args)
}

fn flag(name: &str) -> &'static flag::Flag {
    FLAGS.iter().find(|f| f.name() == name).unwrap_or_else(|| panic!("no flag --{name}"))
}

#[test]
fn defaults_and_flags() {
    let c = parse(&[]).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.bind.to_string(), "0.0.0.0:8080");
    assert_eq!(c.max_message, 65536);
    assert_eq!(c.max_text, 2000);
    assert_eq!(c.max_name, 32);
    let c = parse(&["--bind", "127.0.0.1:0", "--echo", "--max-message=100", "--fsync", "never"]).unwrap();
    assert_eq!(c.bind.to_string(), "127.0.0.1:0");
    assert!(c.echo);
    assert_eq!(c.max_message, 100);
    assert_eq!(c.fsync, FsyncPolicy::Never);
    let c = parse(&["--idle-timeout", "9", "--tcp-nodelay", "false"]).unwrap();
    assert_eq!(c.idle_timeout, Duration::from_secs(9));
    assert!(!c.tcp_nodelay, "--tcp-nodelay takes its value after a space, unlike a switch");
}

#[test]
fn rejects_host_names_and_junk() {
    assert!(parse(&["--bind", "localhost:8080"]).unwrap_err().contains("not IP:PORT"));
    assert!(parse(&["--max-message", "lots"]).unwrap_err().contains("whole number"));
    assert!(parse(&["--nope"]).unwrap_err().contains("unknown flag"));
    assert!(parse(&["stray"]).is_err());
    assert_eq!(
        parse(&["--fsync", "sometimes"]).unwrap_err(),
        r#"--fsync: "sometimes" is not always, interval or never"#
    );
    assert!(parse(&["--allow-origin", "chat.example.org"]).unwrap_err().contains("not an origin"));
    assert!(parse(&["--access-code", " "]).unwrap_err().contains("--access-code"));
    assert!(parse(&["--data-dir="]).unwrap_err().contains("--data-dir"));
}

/// What `--help` shows as a default is what the parser reads back as that very default.
#[test]
fn every_default_round_trips_through_its_parser() {
    let defaults = Config::default();
    for flag in FLAGS {
        let Some(shown) = (flag.show)(&defaults) else { continue };
        // Setting a field to its default, from text, must leave the config as it was. (A list
        // grows instead; no list has a default, so none is shown, and none is tested here.)
        let mut config = Config::default();
        (flag.set)(&mut config, &shown).unwrap_or_else(|e| panic!("--{}: default {shown:?}: {e}", flag.name()));
        assert_eq!(config, defaults, "--{}: {shown:?} does not parse back to the default", flag.name());
        // And through the real front door, for the flag and for its variable.
        let (name, var) = (format!("--{}={shown}", flag.name()), flag.env_var());
        assert_eq!(parse(&[&name]).unwrap(), defaults, "{name}");
        assert_eq!(parse_with_env(&[(&var, &shown)], &[]).unwrap(), defaults, "{var}={shown}");
    }
}

#[test]
fn flags_without_a_default_show_none() {
    let defaults = Config::default();
    for name in ["access-code", "allow-origin"] {
        assert_eq!((flag(name).show)(&defaults), None, "--{name}");
    }
    let text = help();
    let line = |usage: &str| text.lines().skip_while(|l| !l.contains(usage)).nth(1).unwrap().to_string();
    assert_eq!(line("--access-code CODE").trim(), "[env: CHATROOM_ACCESS_CODE]");
    assert_eq!(line("--allow-origin ORIGIN").trim(), "[env: CHATROOM_ALLOW_ORIGIN]");
}

#[test]
fn help_lists_every_flag_with_its_env_var_and_generated_default() {
    let text = help();
    let lines: Vec<&str> = text.lines().collect();
    let defaults = Config::default();
    for flag in FLAGS {
        let at = lines.iter().position(|l| l.trim_start().starts_with(&format!("{} ", flag.usage)));
        let at = at.unwrap_or_else(|| panic!("--help lacks {}", flag.usage));
        assert!(lines[at].ends_with(flag.help), "{}", lines[at]);
        let mut under = format!("[env: {}]", flag.env_var());
        if let Some(default) = (flag.show)(&defaults) {
            under.push_str(&format!(" [default: {default}]"));
        }
        assert_eq!(lines[at + 1].trim(), under, "the line under {}", flag.usage);
    }
    // A few by hand, so that a broken generator cannot agree with itself.
    for expected in [
        "[env: CHATROOM_BIND] [default: 0.0.0.0:8080]",
        "[env: CHATROOM_MAX_MESSAGE] [default: 65536]",
        "[env: CHATROOM_MAX_TEXT] [default: 2000]",
        "[env: CHATROOM_MAX_NAME] [default: 32]",
        "[env: CHATROOM_IDLE_TIMEOUT] [default: 75]",
        "[env: CHATROOM_DATA_DIR] [default: ./chatroom-data]",
        "[env: CHATROOM_FSYNC] [default: interval]",
        "[env: CHATROOM_ECHO] [default: false]",
        "[env: CHATROOM_TCP_NODELAY] [default: true]",
        "[env: CHATROOM_LOG_FORMAT] [default: text]",
    ] {
        assert!(text.contains(expected), "--help lacks {expected}");
    }
    for what in ["--help", "--version", "--max-per-ip N", "--rate-limit N", "--max-connections N"] {
        assert!(text.contains(what), "--help lacks {what}");
    }
    for line in text.lines() {
        assert!(line.chars().count() <= 100, "--help line over 100 columns: {line:?}");
    }
}

#[test]
fn names_and_env_vars_follow_one_rule_and_are_unique() {
    assert_eq!(flag("max-message").env_var(), "CHATROOM_MAX_MESSAGE");
    assert_eq!(flag("ping-interval").env_var(), "CHATROOM_PING_INTERVAL");
    let mut seen = HashSet::new();
    for flag in FLAGS {
        assert!(flag.usage.starts_with("--"), "{}", flag.usage);
        assert!(seen.insert(flag.name()), "--{} twice", flag.name());
        assert!(!["help", "version"].contains(&flag.name()), "--{} is a command, not a setting", flag.name());
    }
}

/// A row without a value name is a switch: the flag alone must be a value its kind accepts.
#[test]
fn every_switch_works_alone_and_can_be_turned_off() {
    for flag in FLAGS.iter().filter(|f| f.is_switch()) {
        let on = format!("--{}", flag.name());
        parse(&[&on]).unwrap_or_else(|e| panic!("{on} alone: {e}"));
        let var = flag.env_var();
        let off = format!("--{}=false", flag.name());
        assert_eq!(parse_with_env(&[(&var, "true")], &[&off]).unwrap(), Config::default(), "{off}");
    }
    assert!(parse(&["--echo"]).unwrap().echo);
    assert!(parse(&["--memory"]).unwrap().storage_dir().is_none());
}

#[test]
fn ranges_are_enforced() {
    for (flag, low, high) in [
        ("max-name", "7", "257"),
        ("max-head", "1023", "1048577"),
        ("send-buffer", "4095", "67108865"),
        ("idle-timeout", "0", "86401"),
        ("head-timeout", "0", "3601"),
        ("history", "-1", "100001"),
        ("rate-burst", "0", "1000001"),
        ("max-message", "0", "99999999999999999999999999"),
    ] {
        for value in [low, high] {
            let err = parse(&[&format!("--{flag}"), value]).unwrap_err();
            assert!(err.starts_with(&format!("--{flag}: ")), "{err}");
        }
    }
    // Out of range says so, and says what the range is.
    assert_eq!(parse(&["--max-name", "257"]).unwrap_err(), "--max-name: 257 is out of range (8..=256)");
    assert_eq!(
        parse(&["--rate-limit", "9999999999"]).unwrap_err(),
        "--rate-limit: 9999999999 is out of range (0..=1000000)"
    );
    // The edges themselves are allowed.
    let c = parse(&["--max-name", "8", "--history", "0", "--rate-limit", "0", "--max-per-ip", "0"]).unwrap();
    assert_eq!((c.max_name, c.history, c.rate_limit, c.max_per_ip), (8, 0, 0, 0));
    let c = parse(&["--max-name", "256", "--head-timeout", "3600"]).unwrap();
    assert_eq!((c.max_name, c.head_timeout), (256, Duration::from_secs(3600)));
}

#[test]
fn environment_first_then_flags_win() {
    let env = [("CHATROOM_HISTORY", "7"), ("CHATROOM_LOG_FORMAT", "json"), ("CHATROOM_ECHO", "1")];
    let c = parse_with_env(&env, &[]).unwrap();
    assert_eq!((c.history, c.log_format, c.echo), (7, Format::Json, true));
    let c = parse_with_env(&env, &["--history", "9", "--echo=false"]).unwrap();
    assert_eq!((c.history, c.log_format, c.echo), (9, Format::Json, false));
    // A bad variable is named, even when a flag would have replaced it.
    let err = parse_with_env(&[("CHATROOM_SEND_BUFFER", "lots")], &["--send-buffer", "8192"]).unwrap_err();
    assert_eq!(err, r#"CHATROOM_SEND_BUFFER: "lots" is not a whole number"#);
}

#[test]
fn origins_accumulate_from_the_environment_and_each_flag() {
    let env = [("CHATROOM_ALLOW_ORIGIN", "https://A.example, http://b.example:8080")];
    let c = parse_with_env(&env, &["--allow-origin", "https://c.example", "--allow-origin=https://d.example"]).unwrap();
    assert_eq!(
        c.allow_origins,
        ["https://a.example", "http://b.example:8080", "https://c.example", "https://d.example"]
    );
    let c = parse(&["--access-code", "  open sesame "]).unwrap();
    assert_eq!(c.access_code.as_deref(), Some("open sesame"));
}
