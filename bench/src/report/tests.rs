//! The report's tables, checked on made-up runs.

use super::*;

#[test]
fn medians_and_ratios() {
    assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    assert_eq!(median(vec![]), None);
    assert_eq!(ratio(Some(1.0), Some(2.0)), "0.50");
    assert_eq!(ratio(Some(0.0), Some(0.0)), "=");
    assert_eq!(ratio(Some(3.0), Some(0.0)), "–");
    assert_eq!(ratio(Some(3.0), None), "–");
}

#[test]
fn groups_thousands() {
    assert_eq!(thousands(1_234_567.8, 0), "1,234,568");
    assert_eq!(thousands(999.0, 0), "999");
    assert_eq!(thousands(1000.0, 1), "1,000.0");
    assert_eq!(thousands(0.4567, 3), "0.457");
    assert_eq!(thousands(-1234.0, 0), "-1,234");
}

fn stall_outcome(stuck: usize, p99s: [(Kind, f64); 2], bursty_dropped: [bool; 2]) -> Outcome {
    let runs = p99s
        .iter()
        .zip(bursty_dropped)
        .map(|(&(server, p99_us), dropped)| RunRecord {
            server,
            run: 1,
            result: Ok(RunResult {
                clients: 20,
                p99_us,
                bursty_p99_us: Some(199_000.0),
                bursty_lost: Some(0),
                bursty_duplicated: Some(0),
                bursty_dropped: Some(dropped),
                stuck,
                stuck_dropped: (stuck > 0).then_some(if server == Kind::Chatroom { 50 } else { 0 }),
                ..RunResult::default()
            }),
        })
        .collect();
    Outcome { scenario: crate::scenario::stall(stuck), runs, skipped: None }
}

#[test]
fn the_stall_rows_and_the_derived_ratio() {
    let header = Header {
        date: "d".into(),
        nproc: 2,
        cpu_model: "cpu".into(),
        kernel: "k".into(),
        command: "c".into(),
        runs: 1,
        notes: Vec::new(),
    };
    let outcomes = [
        stall_outcome(0, [(Kind::Chatroom, 1000.0), (Kind::Baseline, 800.0)], [false, false]),
        stall_outcome(50, [(Kind::Chatroom, 1200.0), (Kind::Baseline, 2000.0)], [false, true]),
    ];
    let table = markdown(&header, &outcomes, &[Kind::Chatroom, Kind::Baseline]);
    assert!(table.contains("| STALL50 | p99 STALL50 / STALL0 (goal ≤ 1.5) | 1.20 | 2.50 | |"), "{table}");
    assert!(table.contains("| STALL50 | bursty member dropped by server | 0 of 1 runs | 1 of 1 runs | |"));
    assert!(table.contains("| STALL0 | bursty member: latency p99 (µs) | 199,000 | 199,000 | 1.00 |"));
    assert!(table.contains("| STALL50 | stuck members dropped by server | 50 | 0 | – |"));
    assert!(!table.contains("| STALL0 | stuck members"), "STALL0 has no stuck members");
    assert!(table.contains("STALL50 baseline run 1: the bursty member was dropped by the server"));
    assert!(table.contains("| STALL50 | 20 + 1 sender + 1 bursty + 50 stuck | 1 × 50 msg/s, 1024 B texts | 10 s |"));

    // Elsewhere, no stall rows at all.
    let mut plain = stall_outcome(0, [(Kind::Chatroom, 1.0), (Kind::Baseline, 1.0)], [false, false]);
    plain.scenario = crate::scenario::all().remove(0);
    for run in &mut plain.runs {
        if let Ok(r) = &mut run.result {
            (r.bursty_p99_us, r.bursty_lost, r.bursty_duplicated, r.bursty_dropped) = (None, None, None, None);
        }
    }
    let table = markdown(&header, &[plain], &[Kind::Chatroom, Kind::Baseline]);
    assert!(!table.contains("bursty") && !table.contains("stuck") && !table.contains("STALL50 /"), "{table}");
    let runs = runs_table(&outcomes);
    let widths: Vec<usize> = runs.lines().map(|l| l.matches('|').count()).collect();
    assert!(widths.iter().all(|&w| w == widths[0]), "{runs}");
}
