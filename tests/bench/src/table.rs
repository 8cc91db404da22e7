//! The report: one markdown table, a row per figure.

use std::time::Duration;

/// One row: the figure, our value, the native value, and how they compare.
pub struct Row([String; 4]);

impl Row {
    pub fn new(figure: impl Into<String>, ours: String, native: String, ratio: String) -> Self {
        Self([figure.into(), ours, native, ratio])
    }

    /// A time each way; the ratio is ours over native (above 1: we are slower).
    pub fn times(figure: impl Into<String>, ours: Duration, native: Duration) -> Self {
        let ratio = ours.as_secs_f64() / native.as_secs_f64();
        Self::new(figure, time(ours), time(native), format!("{ratio:.2}x"))
    }

    /// A rate each way; the ratio is ours as a fraction of native (below 1: fewer).
    pub fn rates(figure: impl Into<String>, ours: f64, native: f64) -> Self {
        let ratio = format!("{:.2}x of native", ours / native);
        Self::new(
            figure,
            format!("{ours:.0}/s"),
            format!("{native:.0}/s"),
            ratio,
        )
    }

    /// Sizes each way, ours over native.
    pub fn sizes(figure: impl Into<String>, ours: f64, native: f64, unit: &str) -> Self {
        let ratio = format!("{:.2}x", ours / native);
        let (ours, native) = (format!("{ours:.1} {unit}"), format!("{native:.1} {unit}"));
        Self::new(figure, ours, native, ratio)
    }
}

/// Prints the rows under the table's header.
pub fn print(rows: &[Row]) {
    println!("| figure | sfn-start/library | native (aws-sdk-sfn / sfn-core) | ratio |");
    println!("|---|---:|---:|---:|");
    for Row(cells) in rows {
        println!("| {} |", cells.join(" | "));
    }
}

/// In the unit that keeps three or so significant digits.
pub fn time(d: Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    if micros < 1000.0 {
        format!("{micros:.1} µs")
    } else {
        format!("{:.2} ms", micros / 1000.0)
    }
}

/// The middle sample (the upper one of an even count); zero if there are none.
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}
