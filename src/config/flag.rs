//! The `flags!` macro, which turns the rows written in `mod.rs` into the `Config` struct, its
//! `Default` and the `FLAGS` table; and [`Flag`], one entry of that table.
//!
//! Before, a flag was written four times (a field, its default, a help row with the default typed
//! again by hand, a string match to parse it) and nothing checked that they agreed. Now a flag is
//! one row, and this macro writes the rest, so there is nothing left to disagree.

use super::Config;

/// One flag as the parser and `--help` see it. `flags!` writes one per row into `FLAGS`.
pub(super) struct Flag {
    /// What `--help` shows on the left: `--max-message BYTES`, or just `--echo` for a switch.
    pub usage: &'static str,
    /// One line saying what the flag does.
    pub help: &'static str,
    /// The value of the flag's field in a `Config`, as its kind writes it (`--help` shows it for
    /// `Config::default()`); `None` for nothing to show.
    pub show: fn(&Config) -> Option<String>,
    /// Sets the flag's field in a `Config` from the text the user gave, through its kind.
    pub set: fn(&mut Config, &str) -> Result<(), String>,
}

impl Flag {
    /// The name without its dashes or value name, as `lexopt` hands it over: `max-message`.
    pub fn name(&self) -> &'static str {
        let usage = self.usage.strip_prefix("--").expect("a flag's usage starts with --");
        usage.split(' ').next().unwrap_or(usage)
    }

    /// A flag without a value name (`--echo`) is a switch: alone it means `true`, and a value can
    /// still be attached with `=` (`--echo=false`), to turn off what the environment turned on.
    pub fn is_switch(&self) -> bool {
        !self.usage.contains(' ')
    }

    /// The environment variable that sets the same thing. The one rule: `CHATROOM_`, then the
    /// flag's name in capitals with each `-` as `_`. `--max-message` → `CHATROOM_MAX_MESSAGE`.
    pub fn env_var(&self) -> String {
        format!("CHATROOM_{}", self.name().replace('-', "_").to_ascii_uppercase())
    }
}

/// Writes the `Config` struct, its `impl Default` and the `FLAGS` table from one list of rows.
///
/// One row, as written in `mod.rs` (the doc comment is the field's, for readers of the code; the
/// `help` is the line in `--help`, for people running the server):
///
/// ```text
/// /// Largest HTTP request head, in bytes (431 above it).
/// pub max_head: usize {
///     flag: "--max-head BYTES",
///     default: 16 * 1024,
///     parse: Number(1024, 1 << 20),
///     help: "largest HTTP request head; larger ones get 431",
/// },
/// ```
///
/// becomes three pieces, each in its own place:
///
/// ```text
/// pub struct Config {
///     /// Largest HTTP request head, in bytes (431 above it).
///     pub max_head: usize,
///     // ...every other row's field
/// }
///
/// impl Default for Config {
///     fn default() -> Self {
///         Config { max_head: 16 * 1024, /* ...every other row's default */ }
///     }
/// }
///
/// const FLAGS: &[Flag] = &[
///     Flag {
///         usage: "--max-head BYTES",
///         help: "largest HTTP request head; larger ones get 431",
///         show: |config: &Config| Kind::show(&Number(1024, 1 << 20), &config.max_head),
///         set: |config: &mut Config, text: &str| Kind::set(&Number(1024, 1 << 20), &mut config.max_head, text),
///     },
///     // ...every other row's flag
/// ];
/// ```
///
/// The kind (`Number(1024, 1 << 20)`) appears in both closures. It is a tiny value built on the
/// spot, so writing it twice costs nothing; and inside each closure the field's type decides the
/// kind's: `Number(0, 1_000_000)` for a `u32` field is a `Number<u32>`, and a kind whose values
/// are not of the field's type does not compile. The default is shown through the same kind that
/// parses, so `--help` can never show a default the parser would read differently.
macro_rules! flags {
    (
        // Attributes and doc comment of the struct, passed through as they are.
        $(#[$struct_attr:meta])*
        pub struct Config {
            $(
                // The field's doc comment (`///` is a `#[doc = "..."]` attribute to a macro).
                $(#[$field_doc:meta])*
                pub $field:ident: $type:ty {
                    flag: $usage:literal,
                    default: $default:expr,
                    parse: $kind:expr,
                    help: $help:literal $(,)?
                }
            ),* $(,)?
        }
    ) => {
        $(#[$struct_attr])*
        pub struct Config {
            $(
                $(#[$field_doc])*
                pub $field: $type,
            )*
        }

        impl Default for Config {
            fn default() -> Self {
                Config { $( $field: $default, )* }
            }
        }

        /// Every flag, in the order of the rows, which is the order of `--help`.
        const FLAGS: &[$crate::config::flag::Flag] = &[
            $(
                $crate::config::flag::Flag {
                    usage: $usage,
                    help: $help,
                    show: |config: &Config| $crate::config::kinds::Kind::show(&$kind, &config.$field),
                    set: |config: &mut Config, text: &str| {
                        $crate::config::kinds::Kind::set(&$kind, &mut config.$field, text)
                    },
                },
            )*
        ];
    };
}

// Lets `mod.rs` name the macro by path (`flag::flags!`), like any other item.
pub(super) use flags;
