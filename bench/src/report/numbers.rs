//! How the report writes numbers: medians, ratios, thousands separators.

/// The median; the mean of the middle two for an even count.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2.0 })
}

/// chatroom / baseline, or a dash when it means nothing (a missing side, or 0 against 0).
pub fn ratio(chatroom: Option<f64>, baseline: Option<f64>) -> String {
    match (chatroom, baseline) {
        (Some(c), Some(b)) if b != 0.0 => format!("{:.2}", c / b),
        (Some(c), Some(_)) => if c == 0.0 { "=" } else { "–" }.into(),
        _ => "–".into(),
    }
}

/// `1234567.8` → `1,234,568` (with `decimals` after the point).
pub fn thousands(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, digit) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
    match frac {
        Some(frac) => format!("{sign}{grouped}.{frac}"),
        None => format!("{sign}{grouped}"),
    }
}
