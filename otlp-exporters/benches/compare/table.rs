//! The harness's table: one row per measurement, ours against the reference, with the ratio
//! (or why there is none).

/// One line of the table.
pub struct Row {
    pub name: String,
    pub ours: f64,
    pub reference: Option<f64>,
    pub unit: &'static str,
    /// Whether a larger number is better (throughput) or worse (cost).
    pub higher_is_better: bool,
    /// Set when a side delivered nothing, so that a ratio would compare against nothing: the
    /// table prints "side delivered nothing: <why>" instead of the ratio.
    pub nothing_delivered: Option<String>,
}

pub fn row(
    name: impl Into<String>,
    ours: f64,
    reference: Option<f64>,
    unit: &'static str,
    higher_is_better: bool,
) -> Row {
    Row {
        name: name.into(),
        ours,
        reference,
        unit,
        higher_is_better,
        nothing_delivered: None,
    }
}

impl Row {
    /// The same row, its ratio replaced by "side delivered nothing: `why`" when `why` is set.
    pub fn unless_nothing_delivered(mut self, why: Option<String>) -> Row {
        self.nothing_delivered = why;
        self
    }
}

/// Prints the table.
pub fn print_rows(rows: Vec<Row>) {
    println!(
        "\n{:<52} {:>14} {:>14} {:>8}",
        "benchmark", "otlp-rust", "reference", "ratio"
    );
    for row in rows {
        let reference = row
            .reference
            .map_or_else(|| "-".to_owned(), |r| format!("{r:.1}{}", row.unit));
        let ratio = match row.reference {
            _ if row.nothing_delivered.is_some() => format!(
                "side delivered nothing: {}",
                row.nothing_delivered.as_deref().unwrap_or_default()
            ),
            Some(r) if row.higher_is_better && r > 0.0 => format!("{:.2}x", row.ours / r),
            Some(r) if !row.higher_is_better && row.ours > 0.0 => format!("{:.2}x", r / row.ours),
            Some(_) => "∞".to_owned(),
            None => String::new(),
        };
        println!(
            "{:<52} {:>14} {:>14} {:>8}",
            row.name,
            format!("{:.1}{}", row.ours, row.unit),
            reference,
            ratio
        );
    }
    println!("\nratio: how many times better otlp-rust is (reference / ours for costs, ours / reference for rates)");
}
