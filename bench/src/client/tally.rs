//! Who is who among a run's connections ([`Layout`]), and what the receivers have seen
//! ([`Tally`]): the latency histogram, first deliveries, duplicates, probes and disconnects.

use std::rc::Rc;
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::sync::Semaphore;

use crate::token::{self, SeenSeqs, Token};

/// Who is who among one run's connections.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// Measured receivers: their first deliveries make the latency percentiles, lost and
    /// duplicated.
    pub receivers: usize,
    /// Connections that send. Unless `senders_apart`, they are the first of the receivers.
    pub senders: usize,
    /// The senders are connections of their own: they read what the room sends them (or they
    /// would be stuck members themselves), but are not measured.
    pub senders_apart: bool,
    /// A member that reads in bursts, measured on its own.
    pub bursty: Option<Bursty>,
}

impl Layout {
    /// Every connection the [`Tally`] tracks: the senders (if apart), the receivers, the bursty
    /// member. Senders come first, then the receivers, then the bursty member.
    pub fn tracked(&self) -> usize {
        self.receivers + if self.senders_apart { self.senders } else { 0 } + usize::from(self.bursty.is_some())
    }

    pub(super) fn role(&self, i: usize) -> Role {
        if self.bursty.is_some() && i + 1 == self.tracked() {
            Role::Bursty
        } else if self.senders_apart && i < self.senders {
            Role::Unmeasured
        } else {
            Role::Measured
        }
    }
}

/// A member on a poor link (a phone on Wi-Fi): it reads for `read`, then does not read for
/// `pause`, and again, for the whole run. Its receive buffer is as small as a stuck member's.
#[derive(Clone, Copy, Debug)]
pub struct Bursty {
    pub read: Duration,
    pub pause: Duration,
}

/// What a tracked connection's deliveries count for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// Percentiles, lost, duplicated.
    Measured,
    /// Nothing (a sender apart from the receivers): read and dropped.
    Unmeasured,
    /// The bursty member's own figures.
    Bursty,
}

/// What the receivers have seen, shared by every task of one run.
pub struct Tally {
    pub(super) nonce: u32,
    /// Send-to-receive time of every first delivery, in nanoseconds.
    pub latency: Histogram<u64>,
    /// Deliveries seen for the first time by their receiver.
    pub unique: u64,
    /// Deliveries of a token the receiver had already seen.
    pub duplicates: u64,
    /// What each tracked connection's deliveries count for.
    pub(super) roles: Vec<Role>,
    /// The bursty member's latencies, first deliveries and duplicates, apart from the others'.
    pub bursty_latency: Histogram<u64>,
    pub bursty_duplicates: u64,
    /// Why the server ended the bursty member's connection, if it did.
    pub bursty_dropped: Option<String>,
    /// Chat texts that are not this run's tokens.
    pub foreign: u64,
    /// First deliveries per tracked connection (measured or not).
    pub per_receiver: Vec<u64>,
    /// The newest probe each receiver has seen (0: none yet).
    pub(super) probe_seen: Vec<u64>,
    /// Whether each receiver's connection is still open.
    pub(super) open: Vec<bool>,
    /// Text frames each receiver got, of any kind (a welcome, a roster): tells a client the server
    /// never wrote to from one that only missed the relays.
    pub(super) frames: Vec<u32>,
    /// When the newest first delivery arrived ([`crate::token::now_ns`]).
    pub last_delivery_ns: u64,
    /// Connections (other than the bursty member) that ended before the run did, and why the
    /// first one ended.
    pub disconnected: usize,
    pub first_disconnect: Option<String>,
    /// Set at teardown, so that the ends we cause are not counted as disconnects.
    pub(super) closing: bool,
    /// Saturation mode: each sender's in-flight window, refilled when its own echo comes back.
    pub(super) windows: Vec<Rc<Semaphore>>,
}

impl Tally {
    pub(super) fn new(nonce: u32, layout: &Layout) -> Tally {
        let clients = layout.tracked();
        let histogram = || Histogram::new_with_bounds(1, 120_000_000_000, 3).expect("valid histogram bounds");
        Tally {
            nonce,
            latency: histogram(),
            unique: 0,
            duplicates: 0,
            roles: (0..clients).map(|i| layout.role(i)).collect(),
            bursty_latency: histogram(),
            bursty_duplicates: 0,
            bursty_dropped: None,
            foreign: 0,
            per_receiver: vec![0; clients],
            probe_seen: vec![0; clients],
            open: vec![true; clients],
            frames: vec![0; clients],
            last_delivery_ns: 0,
            disconnected: 0,
            first_disconnect: None,
            closing: false,
            windows: Vec::new(),
        }
    }

    /// Counts one relayed frame received by `receiver`, who has seen `seen` so far.
    pub(super) fn record(&mut self, receiver: usize, seen: &mut [SeenSeqs], frame: &str, now: u64) {
        self.frames[receiver] += 1;
        for text in token::chat_texts(frame) {
            match token::parse(text, self.nonce) {
                Token::Measured { sender, seq, sent_ns } => {
                    let Some(from) = seen.get_mut(sender) else {
                        self.foreign += 1;
                        continue;
                    };
                    let role = self.roles[receiver];
                    if !from.first_time(seq) {
                        match role {
                            Role::Measured => self.duplicates += 1,
                            Role::Bursty => self.bursty_duplicates += 1,
                            Role::Unmeasured => {}
                        }
                        continue;
                    }
                    self.per_receiver[receiver] += 1;
                    let latency = now.saturating_sub(sent_ns).max(1);
                    match role {
                        Role::Measured => {
                            self.unique += 1;
                            self.latency.saturating_record(latency);
                            self.last_delivery_ns = now;
                        }
                        Role::Bursty => self.bursty_latency.saturating_record(latency),
                        Role::Unmeasured => {}
                    }
                    if receiver == sender {
                        if let Some(window) = self.windows.get(sender) {
                            window.add_permits(1);
                        }
                    }
                }
                Token::Probe { id } => {
                    let newest = &mut self.probe_seen[receiver];
                    *newest = (*newest).max(id);
                }
                Token::Foreign => self.foreign += 1,
            }
        }
    }

    /// How many open connections have not yet seen probe `id` (or a newer one).
    pub(super) fn missing_probe(&self, id: u64) -> usize {
        self.open.iter().zip(&self.probe_seen).filter(|&(&open, &seen)| open && seen < id).count()
    }

    /// Which open connections lack probe `id`, for the error message: how many, how many of them
    /// got no frame at all, and the first few with the newest probe each did see.
    pub(super) fn missing_note(&self, id: u64) -> String {
        let missing: Vec<usize> = (0..self.open.len()).filter(|&i| self.open[i] && self.probe_seen[i] < id).collect();
        let silent = missing.iter().filter(|&&i| self.frames[i] == 0).count();
        let first: Vec<String> = missing
            .iter()
            .take(5)
            .map(|&i| format!("client {i}: newest probe {}, {} frames", self.probe_seen[i], self.frames[i]))
            .collect();
        format!(
            "{} open clients lack probe {id}, {silent} of them got no frame at all ({}; {})",
            missing.len(),
            first.join(", "),
            self.disconnect_note()
        )
    }

    /// Measured receivers that have fewer than `sent` first deliveries.
    pub fn short_receivers(&self, sent: u64) -> u64 {
        self.measured_counts().filter(|&got| got < sent).count() as u64
    }

    pub(super) fn measured_counts(&self) -> impl Iterator<Item = u64> + '_ {
        self.per_receiver.iter().zip(&self.roles).filter(|&(_, &role)| role == Role::Measured).map(|(&got, _)| got)
    }

    /// The bursty member's first deliveries, if there is one.
    pub fn bursty_delivered(&self) -> Option<u64> {
        let i = self.roles.iter().position(|&role| role == Role::Bursty)?;
        Some(self.per_receiver[i])
    }

    /// Whether the bursty member (if any, and still connected) lacks some of `sent` messages.
    pub(super) fn bursty_waiting(&self, sent: u64) -> bool {
        self.bursty_dropped.is_none() && self.bursty_delivered().is_some_and(|got| got < sent)
    }

    pub(super) fn disconnect_note(&self) -> String {
        match &self.first_disconnect {
            Some(first) => format!("{} disconnected by the server, first: {first}", self.disconnected),
            None => "none disconnected".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fragment(text: &str) -> String {
        format!(
            r#"<ul id="messages" hx-swap-oob="beforeend"><li class="message"><span class="text">{text}</span></li></ul>"#
        )
    }

    #[test]
    fn layouts_put_senders_first_and_the_bursty_member_last() {
        let bursty = Bursty { read: Duration::from_millis(100), pause: Duration::from_millis(200) };
        let stall = Layout { receivers: 20, senders: 1, senders_apart: true, bursty: Some(bursty) };
        assert_eq!(stall.tracked(), 22);
        assert_eq!(stall.role(0), Role::Unmeasured);
        assert!((1..=20).all(|i| stall.role(i) == Role::Measured));
        assert_eq!(stall.role(21), Role::Bursty);

        let plain = Layout { receivers: 100, senders: 10, senders_apart: false, bursty: None };
        assert_eq!(plain.tracked(), 100);
        assert!((0..100).all(|i| plain.role(i) == Role::Measured));
    }

    #[test]
    fn the_bursty_member_and_an_apart_sender_are_kept_out_of_the_percentiles() {
        let bursty = Bursty { read: Duration::from_millis(100), pause: Duration::from_millis(200) };
        let layout = Layout { receivers: 2, senders: 1, senders_apart: true, bursty: Some(bursty) };
        let mut tally = Tally::new(7, &layout);
        let mut seen: Vec<Vec<SeenSeqs>> = (0..4).map(|_| vec![SeenSeqs::default()]).collect();
        let frame = |seq, sent_ns| fragment(&token::measured_padded(7, 0, seq, sent_ns, 1024));
        // Message 0, sent at 1 ms: the sender (0), both receivers (1, 2), the bursty member (3, late).
        tally.record(0, &mut seen[0], &frame(0, 1_000_000), 2_000_000);
        tally.record(1, &mut seen[1], &frame(0, 1_000_000), 2_000_000);
        tally.record(2, &mut seen[2], &frame(0, 1_000_000), 3_000_000);
        tally.record(3, &mut seen[3], &frame(0, 1_000_000), 201_000_000);
        // A duplicate at a receiver and at the bursty member.
        tally.record(2, &mut seen[2], &frame(0, 1_000_000), 4_000_000);
        tally.record(3, &mut seen[3], &frame(0, 1_000_000), 202_000_000);

        assert_eq!(tally.unique, 2);
        assert_eq!(tally.duplicates, 1);
        assert_eq!(tally.latency.len(), 2);
        assert!(tally.latency.max() <= 2_001_000);
        assert_eq!(tally.bursty_latency.len(), 1);
        assert!(tally.bursty_latency.value_at_quantile(0.99) >= 199_000_000);
        assert_eq!(tally.bursty_duplicates, 1);
        assert_eq!(tally.bursty_delivered(), Some(1));
        assert_eq!(tally.short_receivers(1), 0);
        assert_eq!(tally.short_receivers(2), 2);
        assert!(!tally.bursty_waiting(1));
        assert!(tally.bursty_waiting(2));
        tally.bursty_dropped = Some("connection ended".into());
        assert!(!tally.bursty_waiting(2));
    }
}
