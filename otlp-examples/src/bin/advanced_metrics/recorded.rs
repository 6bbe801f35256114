//! What the demo recorded, kept on the side, so that the aggregates can be printed when the
//! metrics go to a collector this process cannot read back from.

use parking_lot::Mutex;

/// The values recorded, by instrument.
#[derive(Debug, Default)]
pub(crate) struct Recorded {
    inner: Mutex<Values>,
}

#[derive(Debug, Default)]
struct Values {
    user_actions: u64,
    sessions_in_progress: i64,
    transactions: u64,
    amounts: Vec<f64>,
    api_requests: u64,
    response_times: Vec<f64>,
    last_error_rate: f64,
    last_volume: f64,
    last_active_users: u64,
}

/// The `q` quantile of `values` (nearest rank).
fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

impl Recorded {
    pub(crate) fn user_action(&self, login: bool, logout: bool, active_users: u64) {
        let mut v = self.inner.lock();
        v.user_actions += 1;
        v.sessions_in_progress += i64::from(login) - i64::from(logout);
        v.last_active_users = active_users;
    }

    pub(crate) fn transaction(&self, amount: f64, volume: f64) {
        let mut v = self.inner.lock();
        v.transactions += 1;
        v.amounts.push(amount);
        v.last_volume = volume;
    }

    pub(crate) fn api_call(&self, seconds: f64, error_rate: f64) {
        let mut v = self.inner.lock();
        v.api_requests += 1;
        v.response_times.push(seconds);
        v.last_error_rate = error_rate;
    }

    /// The aggregates of what was recorded, one row per instrument.
    pub(crate) fn print(&self) {
        let v = self.inner.lock();
        println!(
            "{:<28} {:<14} {:>14} {:>10} {:>10} {:>10}",
            "metric (as recorded)", "kind", "total/value", "average", "p50", "p95"
        );
        let count = |name: &str, kind: &str, total: f64| {
            println!("{name:<28} {kind:<14} {total:>14.2}");
        };
        let histogram = |name: &str, values: &[f64]| {
            let sum: f64 = values.iter().sum();
            println!(
                "{name:<28} {:<14} {:>14} {:>10.3} {:>10.3} {:>10.3}",
                "histogram",
                values.len(),
                sum / values.len().max(1) as f64,
                quantile(values, 0.5),
                quantile(values, 0.95)
            );
        };
        count("user_actions_total", "counter", v.user_actions as f64);
        count(
            "user_sessions_active",
            "up-down counter",
            v.sessions_in_progress as f64,
        );
        count("transactions_total", "counter", v.transactions as f64);
        histogram("transaction_amount", &v.amounts);
        count("transaction_volume_total", "gauge", v.last_volume);
        count("api_requests_total", "counter", v.api_requests as f64);
        histogram("api_response_time_seconds", &v.response_times);
        count("api_error_rate", "gauge", v.last_error_rate);
        count("active_users", "gauge", v.last_active_users as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&values, 0.5), 50.0);
        assert_eq!(quantile(&values, 0.95), 95.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
