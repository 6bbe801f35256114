//! A local telemetry viewer: what the receiver got, in a browser. Traces as a list and a
//! waterfall with the critical path, a span's attributes, events, links and logs; log records
//! with severity and text filters, linked to their spans; metrics by series, charted over time.
//!
//! The page is three static files embedded in the binary (no build step, no CDN: it works
//! offline) and polls `/api/stats` to show new data without a reload. Memory is bounded by
//! [`Retention`]: past a limit the oldest traces, log records and points are evicted, and the
//! page says how many.
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> std::io::Result<()> {
//! use otlp_examples::viewer::{Store, Viewer};
//! use otlp_transport::receiver::{Receiver, ReceiverConfig};
//!
//! let store = Store::default();
//! let mut config = ReceiverConfig::default();
//! config.on_receive = Some(store.on_receive());
//! config.keep_requests = false;
//! let receiver = Receiver::start(config).await?;
//! let viewer = Viewer::start("127.0.0.1:16686".parse().unwrap(), store).await?;
//! println!("send OTLP to {}, look at {}", receiver.http_endpoint(), viewer.url());
//! # Ok(()) }
//! ```

mod page;
pub mod rows;
mod server;
mod store;
mod trace;

pub use server::{router, Viewer};
pub use store::{
    critical_path, Evicted, MetricEntry, Retention, Series, Store, StoreStats, TraceSummary,
};
