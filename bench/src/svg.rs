//! `latency.svg`: delivery latency p50 and p99 against connected clients, chatroom vs baseline.
//!
//! Hand-written SVG, because one line chart does not justify a plotting crate. The x axis is one
//! slot per scenario, sorted by client count (two scenarios may share a count, so a numeric axis
//! would stack them); the y axis is logarithmic, because p50 and p99 under saturation differ by
//! orders of magnitude.

use std::fmt::Write as _;

/// One scenario's slot on the x axis.
pub struct Slot {
    pub scenario: String,
    pub clients: usize,
}

/// One server's medians, one per slot (None where it has no successful run).
pub struct Series {
    pub server: &'static str,
    pub color: &'static str,
    pub p50_us: Vec<Option<f64>>,
    pub p99_us: Vec<Option<f64>>,
}

const WIDTH: f64 = 820.0;
const HEIGHT: f64 = 460.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 200.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 70.0;

/// The chart, as a standalone SVG document.
pub fn latency_chart(title: &str, slots: &[Slot], series: &[Series]) -> String {
    let values: Vec<f64> =
        series.iter().flat_map(|s| s.p50_us.iter().chain(&s.p99_us)).flatten().copied().filter(|v| *v > 0.0).collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    let (lo_exp, hi_exp) = if values.is_empty() {
        (1, 4)
    } else {
        let lo_exp = lo.log10().floor() as i32;
        (lo_exp, (hi.log10().ceil() as i32).max(lo_exp + 1))
    };

    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |i: usize| LEFT + plot_w * (i as f64 + 0.5) / slots.len().max(1) as f64;
    let y = |us: f64| {
        let t = (us.log10() - lo_exp as f64) / (hi_exp - lo_exp) as f64;
        TOP + plot_h * (1.0 - t)
    };

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="26" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"#,
        LEFT + plot_w / 2.0,
        escape(title)
    );

    // Horizontal grid: every decade labelled, 2× and 5× lighter.
    for exp in lo_exp..=hi_exp {
        for (mult, major) in [(1.0, true), (2.0, false), (5.0, false)] {
            let v = mult * 10f64.powi(exp);
            if exp == hi_exp && !major {
                continue;
            }
            let yy = y(v);
            let stroke = if major { "#bbb" } else { "#e6e6e6" };
            let _ = writeln!(
                svg,
                r#"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="{stroke}"/>"#,
                LEFT + plot_w
            );
            if major {
                let _ = writeln!(
                    svg,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                    LEFT - 8.0,
                    yy + 4.0,
                    duration_label(v)
                );
            }
        }
    }
    // Axes.
    let _ = writeln!(
        svg,
        r#"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{:.1}" stroke="black"/><line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="black"/>"#,
        TOP + plot_h,
        TOP + plot_h,
        LEFT + plot_w,
        TOP + plot_h
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">delivery latency, send → receive (log scale)</text>"#,
        TOP + plot_h / 2.0
    );
    for (i, slot) in slots.iter().enumerate() {
        let xx = x(i);
        let _ = writeln!(
            svg,
            r#"<line x1="{xx:.1}" y1="{:.1}" x2="{xx:.1}" y2="{:.1}" stroke="black"/>"#,
            TOP + plot_h,
            TOP + plot_h + 5.0
        );
        let _ = writeln!(
            svg,
            r##"<text x="{xx:.1}" y="{:.1}" text-anchor="middle">{} clients</text><text x="{xx:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
            TOP + plot_h + 20.0,
            group(slot.clients),
            TOP + plot_h + 36.0,
            escape(&slot.scenario)
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">connected clients (scenario)</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 10.0
    );

    // The lines: p50 solid, p99 dashed; a gap where a point is missing.
    let mut legend = Vec::new();
    for s in series {
        for (points, label, dash) in [(&s.p50_us, "p50", ""), (&s.p99_us, "p99", r#" stroke-dasharray="6 4""#)] {
            let mut path = String::new();
            let mut pen_down = false;
            for (i, v) in points.iter().enumerate() {
                match v.filter(|v| *v > 0.0) {
                    Some(v) => {
                        let _ = write!(path, "{}{:.1},{:.1} ", if pen_down { "L" } else { "M" }, x(i), y(v));
                        pen_down = true;
                    }
                    None => pen_down = false,
                }
            }
            if !path.is_empty() {
                let _ = writeln!(
                    svg,
                    r#"<path d="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"#,
                    path.trim_end(),
                    s.color
                );
            }
            for (i, v) in points.iter().enumerate() {
                if let Some(v) = v.filter(|v| *v > 0.0) {
                    let _ = writeln!(
                        svg,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{}"><title>{} {label} {}: {}</title></circle>"#,
                        x(i),
                        y(v),
                        s.color,
                        s.server,
                        escape(&slots[i].scenario),
                        duration_label(v)
                    );
                }
            }
            legend.push((format!("{} {label}", s.server), s.color, dash));
        }
    }
    let lx = WIDTH - RIGHT + 20.0;
    for (i, (label, color, dash)) in legend.iter().enumerate() {
        let ly = TOP + 10.0 + 22.0 * i as f64;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="2"{dash}/><text x="{}" y="{}">{}</text>"#,
            lx + 30.0,
            lx + 38.0,
            ly + 4.0,
            escape(label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// `250` → `250 µs`, `2000` → `2 ms`, `1.5e6` → `1.5 s`.
fn duration_label(us: f64) -> String {
    let (v, unit) = if us >= 1e6 {
        (us / 1e6, "s")
    } else if us >= 1e3 {
        (us / 1e3, "ms")
    } else {
        (us, "µs")
    };
    let text = if v >= 10.0 || v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.1}") };
    format!("{text} {unit}")
}

fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_well_formed_chart() {
        let slots =
            vec![Slot { scenario: "S1".into(), clients: 100 }, Slot { scenario: "C10K".into(), clients: 10_000 }];
        let series = vec![
            Series {
                server: "chatroom",
                color: "#1f77b4",
                p50_us: vec![Some(80.0), Some(900.0)],
                p99_us: vec![Some(300.0), None],
            },
            Series {
                server: "baseline",
                color: "#d62728",
                p50_us: vec![Some(120.0), Some(1500.0)],
                p99_us: vec![None, None],
            },
        ];
        let svg = latency_chart("latency", &slots, &series);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("10,000 clients"));
        assert!(svg.contains("chatroom p99"));
        assert_eq!(svg.matches("<circle").count(), 5);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        assert_eq!(duration_label(2000.0), "2 ms");
        assert_eq!(duration_label(1500.0), "1.5 ms");
    }
}
