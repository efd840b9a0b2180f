//! Commands ([`Command`]), carried out under the room lock: a new name, private messages, edits
//! and deletes of one's own messages, and the host's moderation. Each either changes the room and tells
//! everyone, or answers its sender alone (an [`Outcome`]); a refusal relays nothing.
//!
//! Who may do what is decided by [`Who`](crate::chat::member::Who), never by name: the host is
//! whoever presented the host key, and a message is one's own when its author (the hash of a
//! member id) is one's own.

use std::sync::Arc;

use super::moderation::{KICKED, KICKED_FOR_MS};
use super::{forget, Room, RoomState};
use crate::chat::history::LogEvent;
use crate::chat::member::Member;
use crate::chat::names;
use crate::lock;
use crate::protocol::command::{help, Command};
use crate::protocol::frame::EncodedFrame;
use crate::protocol::{Dialect, Direct, Outgoing, Renamed, Roster, ServerEvent, ROSTER_NAMES};
use crate::time::now_ms;
use tungstenite::protocol::frame::coding::CloseCode;

/// What became of a command, for its sender.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done, and everyone concerned has been told.
    Done,
    /// An answer for the sender alone (`/help`).
    Reply(String),
    /// Not done: why, in one sentence, for the sender alone.
    Refused(String),
}

impl Room {
    /// Carries out `command` from `member` (`/me` is posted like a message instead: see
    /// `ws::reader`). A new name may have at most `max_name` characters (`--max-name`).
    pub fn command(&self, member: &Arc<Member>, command: Command, max_name: usize) -> Outcome {
        let host = member.who.host;
        let host_only = |what: &str| Outcome::Refused(format!("Only the host can use {what}."));
        match command {
            Command::Help => return Outcome::Reply(help(host)),
            Command::Me(_) => return Outcome::Refused("/me is a message: send it as one.".into()),
            Command::Kick(_) if !host => return host_only("/kick"),
            Command::Mute { .. } if !host => return host_only("/mute"),
            Command::Unmute(_) if !host => return host_only("/unmute"),
            Command::Lock | Command::Unlock if !host => return host_only("/lock and /unlock"),
            Command::Slow(_) if !host => return host_only("/slow"),
            Command::Announce(_) if !host => return host_only("/announce"),
            _ => {}
        }
        let mut state = lock::take(&self.state);
        if let Command::Nick(wanted) = command {
            return match self.rename(&mut state, member, &wanted, max_name, now_ms()) {
                Ok(None) => Outcome::Done,
                Ok(Some(numbered)) => Outcome::Reply(numbered),
                Err(why) => Outcome::Refused(why),
            };
        }
        match self.carry_out(&mut state, member, command, now_ms()) {
            Ok(()) => Outcome::Done,
            Err(why) => Outcome::Refused(why),
        }
    }

    /// [`Room::command`] under the room lock, for the commands that need it.
    fn carry_out(&self, state: &mut RoomState, member: &Arc<Member>, command: Command, now: u64) -> Result<(), String> {
        let state = &mut *state;
        match command {
            Command::Msg(rest) => self.direct(state, member, &rest, now),
            Command::Edit { seq, text } => self.edit(state, member, seq, &text, now),
            Command::Delete(seq) => self.delete(state, member, seq, now),
            Command::Kick(name) => self.kick(state, &name, now),
            Command::Mute { name, minutes } => {
                let target = find(state, &name)?;
                if target.who.host {
                    return Err("The host cannot be muted.".into());
                }
                let until = now + minutes * 60_000;
                self.decide(state, LogEvent::Mute { who: target.who.author.clone(), until });
                self.tell(state, &format!("{} is muted for {minutes} minute(s).", target.name()), now);
                Ok(())
            }
            Command::Unmute(name) => {
                let target = find(state, &name)?;
                if state.moderation.muted_until(&target.who.author, now).is_none() {
                    return Err(format!("{} is not muted.", target.name()));
                }
                self.decide(state, LogEvent::Unmute { who: target.who.author.clone() });
                self.tell(state, &format!("{} may speak again.", target.name()), now);
                Ok(())
            }
            Command::Lock | Command::Unlock => {
                let locked = command == Command::Lock;
                self.decide(state, LogEvent::Lock { locked });
                let text = if locked {
                    "The host locked the room: newcomers are turned away."
                } else {
                    "The host unlocked the room: newcomers are welcome again."
                };
                self.tell(state, text, now);
                Ok(())
            }
            Command::Slow(seconds) => {
                self.decide(state, LogEvent::Slow { seconds });
                let text = match seconds {
                    0 => "Slow mode is off.".to_string(),
                    s => format!("Slow mode: one message per member every {s} s."),
                };
                self.tell(state, &text, now);
                Ok(())
            }
            Command::Announce(text) => {
                self.decide(state, LogEvent::Announce { text: text.clone() });
                let mut outgoing = Outgoing::new(state.html_members > 0, state.json_members > 0);
                outgoing.push(&self.name, &ServerEvent::Announce(&text));
                self.relay(state, |m| outgoing.for_dialect(m.dialect));
                Ok(())
            }
            Command::Help | Command::Me(_) | Command::Nick(_) => Ok(()),
        }
    }

    /// `/nick NAME`: a new name, unique in the room as at join (numbered if taken: then the
    /// sentence that says so, for the member). Everyone is told, with the new roster. Mutes and
    /// slow mode hold a rename back like a message: a rename is seen by everyone.
    fn rename(
        &self,
        state: &mut RoomState,
        member: &Member,
        wanted: &str,
        max_name: usize,
        now: u64,
    ) -> Result<Option<String>, String> {
        let wanted = names::validate(wanted, max_name).map_err(|bad| format!("/nick: {}", bad.explain()))?;
        let old = member.name();
        if *old == *wanted {
            return Err(format!("You are already called {old}."));
        }
        // One's own name is free for oneself: `ann` may become `Ann`.
        let old_key = names::key(&old);
        let name = names::unique(&wanted, max_name, |candidate| {
            let key = names::key(candidate);
            key != old_key && state.names.contains(&key)
        });
        if name == *old {
            return Err(format!("The name {wanted} is taken here, so you stay {old}."));
        }
        if let Some(why) = state.moderation.hold_back(&member.who.author, member.who.host, now) {
            return Err(why);
        }
        // Joins and leaves waiting to be announced go first, under the names they were made with.
        if !state.presence.is_empty() {
            self.flush_presence_locked(state);
        }
        state.names.remove(&old_key);
        state.names.insert(names::key(&name));
        member.set_name(&name);
        let here = state.first_names(ROSTER_NAMES);
        let here: Vec<&str> = here.iter().map(|name| &**name).collect();
        let roster = Roster { names: &here, count: state.members.len() };
        let mut outgoing = Outgoing::new(state.html_members > 0, state.json_members > 0);
        outgoing.push(&self.name, &ServerEvent::Renamed(Renamed { from: &old, to: &name, ts: now, roster }));
        self.relay(state, |m| outgoing.for_dialect(m.dialect));
        Ok((name != wanted).then(|| format!("The name {wanted} is taken here, so you are {name}.")))
    }

    /// `/msg NAME TEXT`: to its two ends only, never logged.
    fn direct(&self, state: &mut RoomState, from: &Arc<Member>, rest: &str, now: u64) -> Result<(), String> {
        if let Some(why) = state.moderation.hold_back(&from.who.author, from.who.host, now) {
            return Err(why);
        }
        // Names may hold spaces: the longest name here that the rest starts with, then a space.
        let to = state
            .members
            .iter()
            .filter(|m| {
                let name = m.name();
                rest.len() > name.len()
                    && rest.is_char_boundary(name.len())
                    && rest[name.len()..].starts_with(char::is_whitespace)
                    && names::key(&rest[..name.len()]) == names::key(&name)
            })
            .max_by_key(|m| m.name().len())
            .cloned()
            .ok_or_else(|| "/msg: no one here has that name; /msg NAME TEXT.".to_string())?;
        let (from_name, to_name) = (from.name(), to.name());
        let text = rest[to_name.len()..].trim();
        if to.id == from.id {
            return Err("/msg: that is you.".into());
        }
        let event = ServerEvent::Direct(Direct { from: &from_name, to: &to_name, text, ts: now });
        let ends = [from.dialect, to.dialect];
        let mut outgoing = Outgoing::new(ends.contains(&Dialect::Html), ends.contains(&Dialect::Json));
        outgoing.push(&self.name, &event);
        self.relay(state, |m| (m.id == from.id || m.id == to.id).then(|| outgoing.for_dialect(m.dialect)).flatten());
        Ok(())
    }

    /// `/edit SEQ TEXT`: one's own message only, checked by author.
    fn edit(&self, state: &mut RoomState, member: &Member, seq: u64, text: &str, now: u64) -> Result<(), String> {
        if let Some(why) = state.moderation.hold_back(&member.who.author, member.who.host, now) {
            return Err(why);
        }
        let message = self.message(state, seq)?;
        if message.by.is_empty() || message.by != member.who.author {
            return Err(format!("You can only edit your own messages, and #{seq} is not yours."));
        }
        self.decide(state, LogEvent::Edit { seq, text: text.to_string(), ts: now });
        let mut outgoing = Outgoing::new(state.html_members > 0, state.json_members > 0);
        outgoing.push(&self.name, &ServerEvent::Edit { seq, text });
        self.relay(state, |m| outgoing.for_dialect(m.dialect));
        Ok(())
    }

    /// `/delete SEQ`: one's own message, or anyone's for the host.
    fn delete(&self, state: &mut RoomState, member: &Member, seq: u64, now: u64) -> Result<(), String> {
        let message = self.message(state, seq)?;
        let own = !message.by.is_empty() && message.by == member.who.author;
        if !own && !member.who.host {
            return Err(format!("You can only delete your own messages, and #{seq} is not yours."));
        }
        self.decide(state, LogEvent::Delete { seq, ts: now });
        let mut outgoing = Outgoing::new(state.html_members > 0, state.json_members > 0);
        outgoing.push(&self.name, &ServerEvent::Delete(seq));
        self.relay(state, |m| outgoing.for_dialect(m.dialect));
        Ok(())
    }

    /// `/kick NAME`: every connection of that member id leaves with 4003, and may not come back
    /// for ten minutes.
    fn kick(&self, state: &mut RoomState, name: &str, now: u64) -> Result<(), String> {
        let target = find(state, name)?;
        if target.who.host {
            return Err("The host cannot be kicked.".into());
        }
        let author = target.who.author.clone();
        self.decide(state, LogEvent::Kick { who: author.clone(), until: now + KICKED_FOR_MS });
        let reason = format!("You were removed from #{} by the host; you may come back in 10 minutes.", self.name);
        let close = EncodedFrame::close(CloseCode::from(KICKED), &reason);
        let (gone, stay): (Vec<_>, Vec<_>) =
            std::mem::take(&mut state.members).into_iter().partition(|m| m.who.author == author);
        state.members = stay;
        for member in &gone {
            forget(state, member);
            if !member.close_with(close.as_bytes(), None) {
                member.shutdown();
            }
        }
        self.tell(state, &format!("{} was removed by the host.", target.name()), now);
        self.maybe_flush_presence(state);
        Ok(())
    }

    /// The message numbered `seq`, or why there is none to act on.
    fn message(&self, state: &RoomState, seq: u64) -> Result<crate::protocol::ChatMessage, String> {
        match state.history.find(seq) {
            Ok(Some(message)) => Ok(message),
            Ok(None) => Err(format!("There is no message #{seq} here (or it was deleted).")),
            Err(_) => Err("The history cannot be read right now; try again.".into()),
        }
    }

    /// Records one of the host's decisions (or an edit, a delete): in the moderation state, the
    /// history and the log. A log error is reported like a message's: the decision stands in
    /// memory, and `/healthz` says the disk is failing.
    fn decide(&self, state: &mut RoomState, event: LogEvent) {
        state.moderation.apply(&event);
        let written = state.history.record(&event, self.fsync);
        if let Some(log) = &self.log {
            if written.is_err() {
                crate::metrics::HISTORY_WRITE_ERRORS.inc();
            }
            self.disk.report(&written, log.path());
        }
    }

    /// A line for everyone in the room: something happened.
    fn tell(&self, state: &mut RoomState, text: &str, now: u64) {
        let mut outgoing = Outgoing::new(state.html_members > 0, state.json_members > 0);
        outgoing.push(&self.name, &ServerEvent::Happened { text, ts: now });
        self.relay(state, |m| outgoing.for_dialect(m.dialect));
    }
}

/// The member called `name` here (compared as names are: `names::key`).
fn find(state: &RoomState, name: &str) -> Result<Arc<Member>, String> {
    let key = names::key(name.trim());
    state
        .members
        .iter()
        .find(|m| names::key(&m.name()) == key)
        .cloned()
        .ok_or_else(|| format!("No one called {} is here.", name.chars().take(40).collect::<String>()))
}
