//! Commands: a chat text that starts with `/` (`//text` says `/text`). Parsed here, for both
//! dialects, into a [`Command`]; carried out by the room (`chat::room::commands`).
//!
//! Deciding that a text is a command costs one byte comparison (its first byte is `/`), so
//! ordinary chat pays nothing for commands; only commands are parsed further.

/// A command a member sent. Names are as typed (the room finds the member, and says so if there
/// is none); numbers are checked here.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// `/help`: the commands this member may use.
    Help,
    /// `/me TEXT`: an action, shown as "* ann TEXT".
    Me(String),
    /// `/nick NAME`: a new name, unique in the room.
    Nick(String),
    /// `/msg NAME TEXT`: a private message. Names may hold spaces, so the room splits the
    /// member's name from the text (the longest name present that the rest starts with).
    Msg(String),
    /// `/edit SEQ TEXT`: a new text for one's own message.
    Edit {
        /// The message's number.
        seq: u64,
        /// Its new text.
        text: String,
    },
    /// `/delete SEQ`: one's own message (the host: anyone's).
    Delete(u64),
    /// `/kick NAME` (host).
    Kick(String),
    /// `/mute NAME [MINUTES]` (host).
    Mute {
        /// Who.
        name: String,
        /// For how long, in minutes (default [`DEFAULT_MUTE_MINUTES`]).
        minutes: u64,
    },
    /// `/unmute NAME` (host).
    Unmute(String),
    /// `/lock` (host): new joiners who are not the host are turned away.
    Lock,
    /// `/unlock` (host).
    Unlock,
    /// `/slow SECONDS` (host): at most one message per member per that many seconds; 0 is off.
    Slow(u64),
    /// `/announce TEXT` (host): the banner; empty clears it.
    Announce(String),
}

/// How long `/mute NAME` lasts without a number.
pub const DEFAULT_MUTE_MINUTES: u64 = 10;

/// The longest mute, a day, and the slowest slow mode, an hour: beyond, a typo.
pub const MAX_MUTE_MINUTES: u64 = 24 * 60;
/// See [`MAX_MUTE_MINUTES`].
pub const MAX_SLOW_SECONDS: u64 = 3600;

/// What a text starting with `/` is: a command, or (`//`) a chat text that starts with `/`.
#[derive(Debug, PartialEq, Eq)]
pub enum Slash<'a> {
    /// A command.
    Command(Command),
    /// `//text`: the chat text `/text`.
    Literal(&'a str),
}

/// The commands and what each does, as `/help` lists them: (usage, help, host only).
pub const HELP: &[(&str, &str, bool)] = &[
    ("/help", "list the commands", false),
    ("/me TEXT", "say what you are doing: * ann TEXT", false),
    ("/nick NAME", "take another name", false),
    ("/msg NAME TEXT", "a private message to one member (never saved)", false),
    ("/edit SEQ TEXT", "change one of your messages", false),
    ("/delete SEQ", "delete one of your messages (the host: anyone's)", false),
    ("//TEXT", "say something that starts with /", false),
    ("/kick NAME", "remove someone; they cannot come back for 10 minutes", true),
    ("/mute NAME [MINUTES]", "stop someone's messages (10 minutes unless said)", true),
    ("/unmute NAME", "let them speak again", true),
    ("/lock, /unlock", "turn new joiners away, or let them in again", true),
    ("/slow SECONDS", "one message per member per SECONDS (0: off)", true),
    ("/announce TEXT", "a banner for everyone (empty: none)", true),
];

/// Reads `text` (trimmed, starting with `/`). `Err` says, in one line, what is wrong.
pub fn parse(text: &str) -> Result<Slash<'_>, String> {
    let body = &text[1..];
    if body.starts_with('/') {
        return Ok(Slash::Literal(body));
    }
    let (word, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
    let rest = rest.trim();
    let word = word.to_ascii_lowercase();
    let needs = |what: &str| -> Result<String, String> {
        if rest.is_empty() {
            Err(format!("/{word} needs {what}: see /help."))
        } else {
            Ok(rest.to_string())
        }
    };
    let none = |command: Command| -> Result<Command, String> {
        if rest.is_empty() {
            Ok(command)
        } else {
            Err(format!("/{word} takes nothing after it."))
        }
    };
    let command = match word.as_str() {
        "help" => Command::Help,
        "me" => Command::Me(needs("some text")?),
        "nick" => Command::Nick(needs("a name")?),
        "msg" => Command::Msg(needs("a name and some text")?),
        "edit" => {
            let (seq, new) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let new = new.trim();
            if new.is_empty() {
                return Err("/edit needs a message number and its new text: /edit SEQ TEXT.".into());
            }
            Command::Edit { seq: number(seq, "/edit", u64::MAX)?, text: new.to_string() }
        }
        "delete" => Command::Delete(number(&needs("a message number")?, "/delete", u64::MAX)?),
        "kick" => Command::Kick(needs("a name")?),
        "mute" => {
            let rest = needs("a name")?;
            match rest.rsplit_once(char::is_whitespace) {
                Some((name, minutes)) if minutes.bytes().all(|b| b.is_ascii_digit()) => Command::Mute {
                    name: name.trim().to_string(),
                    minutes: number(minutes, "/mute's minutes", MAX_MUTE_MINUTES)?.max(1),
                },
                _ => Command::Mute { name: rest, minutes: DEFAULT_MUTE_MINUTES },
            }
        }
        "unmute" => Command::Unmute(needs("a name")?),
        "lock" => none(Command::Lock)?,
        "unlock" => none(Command::Unlock)?,
        "slow" => Command::Slow(number(&needs("a number of seconds (0: off)")?, "/slow", MAX_SLOW_SECONDS)?),
        "announce" => Command::Announce(rest.to_string()),
        "" => return Err("A lone / is not a command: /help lists them, and //text says /text.".into()),
        _ => {
            let shown: String = word.chars().take(20).collect();
            return Err(format!("There is no command /{shown}: /help lists them, and //{shown} says it as text."));
        }
    };
    Ok(Slash::Command(command))
}

impl Command {
    /// The text that says this command (what a client sends; [`parse`] reads it back).
    pub fn to_text(&self) -> String {
        match self {
            Command::Help => "/help".into(),
            Command::Me(text) => format!("/me {text}"),
            Command::Nick(name) => format!("/nick {name}"),
            Command::Msg(rest) => format!("/msg {rest}"),
            Command::Edit { seq, text } => format!("/edit {seq} {text}"),
            Command::Delete(seq) => format!("/delete {seq}"),
            Command::Kick(name) => format!("/kick {name}"),
            Command::Mute { name, minutes } => format!("/mute {name} {minutes}"),
            Command::Unmute(name) => format!("/unmute {name}"),
            Command::Lock => "/lock".into(),
            Command::Unlock => "/unlock".into(),
            Command::Slow(seconds) => format!("/slow {seconds}"),
            Command::Announce(text) => format!("/announce {text}"),
        }
    }
}

/// A whole number up to `most`, or a sentence about `what` was wrong.
fn number(text: &str, what: &str, most: u64) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if n <= most => Ok(n),
        Ok(_) => Err(format!("{what}: {text} is too large (at most {most}).")),
        Err(_) => Err(format!("{what}: {} is not a number.", text.chars().take(20).collect::<String>())),
    }
}

/// The `/help` text for a member (the host sees the host's commands too), one command a line.
pub fn help(host: bool) -> String {
    let mut out = String::from("Commands:");
    for (usage, what, host_only) in HELP {
        if !host_only || host {
            out.push_str(&format!("\n{usage}: {what}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(text: &str) -> Command {
        match parse(text) {
            Ok(Slash::Command(command)) => command,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn each_command_reads_its_arguments() {
        assert_eq!(command("/help"), Command::Help);
        assert_eq!(command("/HELP"), Command::Help);
        assert_eq!(command("/me waves  hello"), Command::Me("waves  hello".into()));
        assert_eq!(command("/nick Ann B"), Command::Nick("Ann B".into()));
        assert_eq!(command("/msg ann b hi there"), Command::Msg("ann b hi there".into()));
        assert_eq!(command("/edit 12 new\ntext"), Command::Edit { seq: 12, text: "new\ntext".into() });
        assert_eq!(command("/delete 3"), Command::Delete(3));
        assert_eq!(command("/kick bob smith"), Command::Kick("bob smith".into()));
        assert_eq!(command("/mute bob"), Command::Mute { name: "bob".into(), minutes: 10 });
        assert_eq!(command("/mute bob smith 5"), Command::Mute { name: "bob smith".into(), minutes: 5 });
        assert_eq!(command("/unmute bob"), Command::Unmute("bob".into()));
        assert_eq!(command("/lock"), Command::Lock);
        assert_eq!(command("/unlock"), Command::Unlock);
        assert_eq!(command("/slow 30"), Command::Slow(30));
        assert_eq!(command("/announce Test at 10"), Command::Announce("Test at 10".into()));
        assert_eq!(command("/announce"), Command::Announce(String::new()));
    }

    #[test]
    fn a_double_slash_is_text() {
        assert_eq!(parse("//kick bob"), Ok(Slash::Literal("/kick bob")));
        assert_eq!(parse("//"), Ok(Slash::Literal("/")));
    }

    #[test]
    fn bad_commands_say_what_is_wrong_in_one_line() {
        for (text, says) in [
            ("/dance", "no command /dance"),
            ("/", "lone /"),
            ("/me", "/me needs some text"),
            ("/edit 5", "/edit needs"),
            ("/edit five new", "five is not a number"),
            ("/delete", "/delete needs"),
            ("/delete -1", "not a number"),
            ("/delete 99999999999999999999999", "not a number"),
            ("/slow 7200", "too large"),
            ("/slow soon", "not a number"),
            ("/mute bob 99999", "too large"),
            ("/lock now", "takes nothing"),
            ("/kick", "/kick needs a name"),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
            assert!(!error.contains('\n'), "{text}: one line");
        }
    }

    #[test]
    fn help_shows_host_commands_to_the_host_only() {
        assert!(help(true).contains("/kick") && !help(false).contains("/kick"));
        assert!(help(false).contains("/edit SEQ TEXT"));
    }
}
