//! The terminal client's member id, kept between runs in its config directory (the XDG base
//! directory spec: `$XDG_CONFIG_HOME/chatroom/member-id`, else `~/.config/chatroom/member-id`),
//! so that its messages stay its own to edit and delete after a reconnect.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use crate::identity::MemberId;

/// The file that holds the id.
fn path() -> Option<PathBuf> {
    let config =
        std::env::var_os("XDG_CONFIG_HOME").filter(|dir| !dir.is_empty()).map(PathBuf::from).or_else(|| {
            std::env::var_os("HOME").filter(|home| !home.is_empty()).map(|home| PathBuf::from(home).join(".config"))
        })?;
    Some(config.join("chatroom").join("member-id"))
}

/// The id kept in the config directory, or a new one kept there (mode 0600: knowing the id is
/// being it). If it cannot be kept, a fresh one for this run, and a warning.
pub fn member_id() -> MemberId {
    let Some(path) = path() else { return MemberId::fresh() };
    if let Some(id) = std::fs::read_to_string(&path).ok().and_then(|text| MemberId::parse(text.trim())) {
        return id;
    }
    let id = MemberId::fresh();
    let kept = path.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| {
        let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&path)?;
        writeln!(file, "{}", id.as_str())
    });
    if let Err(e) = kept {
        eprintln!("chatroom join: cannot keep the member id in {}: {e}; using a new one for this run", path.display());
    }
    id
}
