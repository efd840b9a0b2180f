//! The [`Directory`]: the list of public rooms that every page shows in its side bar, kept
//! current without a reload.
//!
//! Pages could poll `GET /api/rooms`, but with a thread per connection every poll is a thread's
//! work, and most polls would find nothing new. Instead the housekeeping thread looks once a
//! second: making the list costs a few microseconds per room in memory, and when it is what
//! everyone was last told, nothing is sent at all. When it changed, it is encoded once per
//! dialect and written to every member of every room, as a relay is (a member that stopped
//! reading is dropped, not waited for). While people come and go all the time, it is sent at most
//! every [`AT_MOST_EVERY`], so a crowd's churn costs one frame per member per three seconds, and
//! a list is never more than about four seconds old.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::chat::rooms::Rooms;
use crate::lock;
use crate::protocol::json::RoomSummary;
use crate::protocol::{Outgoing, ServerEvent};

/// A changed list waits at least this long after the previous one before it is sent.
pub const AT_MOST_EVERY: Duration = Duration::from_secs(3);

/// What everyone was last told.
#[derive(Default)]
pub struct Directory {
    told: Mutex<Told>,
}

#[derive(Default)]
struct Told {
    /// Each listed room and how many people were in it. Only what the page shows counts as a
    /// change: a message adds to a room's `messages`, but that alone is not news.
    rooms: Vec<(String, usize)>,
    at: Option<Instant>,
}

impl Directory {
    /// Sends every member of every room the list of public rooms, if it changed since they were
    /// last told and that was at least [`AT_MOST_EVERY`] ago. Returns whether it was sent.
    pub fn announce(&self, rooms: &Rooms) -> bool {
        let list = rooms.summaries();
        {
            let mut told = lock::take(&self.told);
            if told.at.is_some_and(|at| at.elapsed() < AT_MOST_EVERY)
                || told.rooms.iter().map(|(name, members)| (name.as_str(), *members)).eq(shown(&list))
            {
                return false;
            }
            told.rooms = shown(&list).map(|(name, members)| (name.to_string(), members)).collect();
            told.at = Some(Instant::now());
        }
        // The room name does not go into this event: one encoding fits every room.
        let mut outgoing = Outgoing::new(true, true);
        outgoing.push("", &ServerEvent::Rooms(&list));
        for room in rooms.all() {
            room.tell_everyone(&outgoing);
        }
        true
    }
}

/// What the page shows of each room: its name and how many people are in it.
fn shown(list: &[RoomSummary]) -> impl Iterator<Item = (&str, usize)> {
    list.iter().map(|summary| (summary.name.as_str(), summary.members))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_and_head_counts_are_news() {
        let summary = |name: &str, members, messages| RoomSummary { name: name.into(), members, messages };
        let told = [("lobby".to_string(), 2)];
        let same = [summary("lobby", 2, 40)];
        let busier = [summary("lobby", 3, 40)];
        assert!(told.iter().map(|(n, m)| (n.as_str(), *m)).eq(shown(&same)));
        assert!(!told.iter().map(|(n, m)| (n.as_str(), *m)).eq(shown(&busier)));
    }
}
