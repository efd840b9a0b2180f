//! How the value of each flag is read from text and shown as text: one small type per kind of
//! value (a number in a range, seconds, a socket address, one word of a list...).
//!
//! A flag's row names its kind, e.g. `parse: Number(1, 1_000_000)`. The same kind both parses
//! what the user typed and shows the default in `--help`, so the two cannot disagree: a test in
//! `tests.rs` checks that every default, shown and parsed again, comes back unchanged.
//!
//! Errors are short phrases; the caller puts the flag or variable name in front of them.

use std::fmt::Display;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// One kind of value: how to read it from a flag or variable, and how to show it in `--help`.
pub(super) trait Kind {
    /// The Rust type of the `Config` field it fills.
    type Value;

    /// Reads one value from the text after the flag (or in the environment variable).
    fn parse(&self, text: &str) -> Result<Self::Value, String>;

    /// The text that [`Kind::parse`] reads back as `value`; `None` when there is nothing to show
    /// (no access code, no extra origins), so `--help` shows no default.
    fn show(&self, value: &Self::Value) -> Option<String>;

    /// Stores what `text` says into the field. Replaces the value, except for lists, which grow.
    fn set(&self, field: &mut Self::Value, text: &str) -> Result<(), String> {
        *field = self.parse(text)?;
        Ok(())
    }
}

/// A whole number from `.0` to `.1`, both included.
pub(super) struct Number<T>(pub T, pub T);

impl<T: FromStr + PartialOrd + Display + Copy> Kind for Number<T> {
    type Value = T;

    fn parse(&self, text: &str) -> Result<T, String> {
        let Number(min, max) = *self;
        let digits = text.trim();
        match digits.parse::<T>() {
            Ok(n) if n >= min && n <= max => Ok(n),
            // Too big for the type is still a number, so say what the range is.
            Ok(_) => Err(format!("{digits} is out of range ({min}..={max})")),
            Err(_) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                Err(format!("{digits} is out of range ({min}..={max})"))
            }
            Err(_) => Err(format!("{text:?} is not a whole number")),
        }
    }

    fn show(&self, value: &T) -> Option<String> {
        Some(value.to_string())
    }
}

/// A duration given in whole seconds, from `.0` to `.1`.
pub(super) struct Seconds(pub u64, pub u64);

impl Kind for Seconds {
    type Value = Duration;

    fn parse(&self, text: &str) -> Result<Duration, String> {
        Number(self.0, self.1).parse(text).map(Duration::from_secs)
    }

    fn show(&self, value: &Duration) -> Option<String> {
        Some(value.as_secs().to_string())
    }
}

/// On or off. A flag whose row has no value name (`--echo`) is a switch: given alone it means
/// `true`, and `--echo=false` turns off what the environment turned on.
pub(super) struct Bool;

impl Kind for Bool {
    type Value = bool;

    fn parse(&self, text: &str) -> Result<bool, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            // Empty is off, so that `CHATROOM_ECHO=` in a unit file means what it looks like.
            "0" | "false" | "no" | "off" | "" => Ok(false),
            _ => Err(format!("{text:?} is not a boolean (true/false)")),
        }
    }

    fn show(&self, value: &bool) -> Option<String> {
        Some(value.to_string())
    }
}

/// An IP address and a port. Never a host name: the server must not need DNS (a LAN without
/// internet has none that works).
pub(super) struct Address;

impl Kind for Address {
    type Value = SocketAddr;

    fn parse(&self, text: &str) -> Result<SocketAddr, String> {
        text.trim()
            .parse()
            .map_err(|_| format!("{text:?} is not IP:PORT (a numeric address, e.g. 0.0.0.0:8080 or [::]:8080)"))
    }

    fn show(&self, value: &SocketAddr) -> Option<String> {
        Some(value.to_string())
    }
}

/// A path on disk, taken as written (relative paths are relative to where the server starts).
pub(super) struct FilePath;

impl Kind for FilePath {
    type Value = PathBuf;

    fn parse(&self, text: &str) -> Result<PathBuf, String> {
        if text.is_empty() {
            return Err("empty path".into());
        }
        Ok(PathBuf::from(text))
    }

    fn show(&self, value: &PathBuf) -> Option<String> {
        Some(value.display().to_string())
    }
}

/// One word out of a fixed list, each word standing for one value: `Choice(&[("text", ...)])`.
pub(super) struct Choice<T: 'static>(pub &'static [(&'static str, T)]);

impl<T: PartialEq + Copy> Kind for Choice<T> {
    type Value = T;

    fn parse(&self, text: &str) -> Result<T, String> {
        let word = text.trim();
        if let Some(&(_, value)) = self.0.iter().find(|(name, _)| *name == word) {
            return Ok(value);
        }
        // "is not always, interval or never", from the list itself.
        let names: Vec<&str> = self.0.iter().map(|(name, _)| *name).collect();
        let (last, rest) = names.split_last().expect("a choice has words");
        let list = if rest.is_empty() { last.to_string() } else { format!("{} or {last}", rest.join(", ")) };
        Err(format!("{word:?} is not {list}"))
    }

    fn show(&self, value: &T) -> Option<String> {
        self.0.iter().find(|(_, v)| v == value).map(|(name, _)| name.to_string())
    }
}

/// A list that grows with each use of the flag. Each use (and the environment variable, which can
/// only be set once) may hold several items separated by commas. Each item is checked, and
/// possibly normalised, by the function in `.0`.
pub(super) struct List(pub fn(&str) -> Result<String, String>);

impl Kind for List {
    type Value = Vec<String>;

    fn parse(&self, text: &str) -> Result<Vec<String>, String> {
        text.split(',').map(str::trim).filter(|item| !item.is_empty()).map(self.0).collect()
    }

    fn show(&self, value: &Vec<String>) -> Option<String> {
        (!value.is_empty()).then(|| value.join(","))
    }

    fn set(&self, field: &mut Vec<String>, text: &str) -> Result<(), String> {
        field.extend(self.parse(text)?);
        Ok(())
    }
}

/// One item of `--allow-origin`: a scheme and a host (and maybe a port), as a browser sends it in
/// `Origin`. Lowercased, because the server lowercases the header before it compares.
pub(super) fn origin(text: &str) -> Result<String, String> {
    if !(text.starts_with("http://") || text.starts_with("https://")) || text.ends_with('/') {
        return Err(format!("{text:?} is not an origin like https://chat.example.org"));
    }
    Ok(text.to_ascii_lowercase())
}

/// Text that may be absent (the field is `None` until the flag is given), but not empty.
pub(super) struct Text;

impl Kind for Text {
    type Value = Option<String>;

    fn parse(&self, text: &str) -> Result<Option<String>, String> {
        match text.trim() {
            "" => Err("cannot be empty".into()),
            text => Ok(Some(text.to_string())),
        }
    }

    fn show(&self, value: &Option<String>) -> Option<String> {
        value.clone()
    }
}

/// Like [`Text`], checked by a function that says what is wrong (a host key).
pub(super) struct CheckedText(pub fn(&str) -> Result<String, String>);

impl Kind for CheckedText {
    type Value = Option<String>;

    fn parse(&self, text: &str) -> Result<Option<String>, String> {
        (self.0)(text.trim()).map(Some)
    }

    fn show(&self, value: &Option<String>) -> Option<String> {
        value.clone()
    }
}
