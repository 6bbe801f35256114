//! Watching the stopped order-service replica in the balancer's numbers.

use otlp_examples::balanced_http::{HttpAnswer, HttpCall};
use otlp_transport::balance::Balancer;

/// Watches the stopped replica in the balancer's numbers and prints what changes.
pub(crate) struct FailoverWatch {
    url: String,
    pub(crate) failed_over: u64,
    pub(crate) left_rotation: bool,
}

impl FailoverWatch {
    pub(crate) fn new(url: &str) -> Self {
        FailoverWatch {
            url: url.to_owned(),
            failed_over: 0,
            left_rotation: false,
        }
    }

    pub(crate) fn report(&mut self, orders: &Balancer<HttpCall, HttpAnswer>, name: &str) {
        let Some(endpoint) = orders.endpoints().into_iter().find(|e| e.url == self.url) else {
            return;
        };
        if endpoint.failed_over > self.failed_over {
            println!("      ↪ failover: {name} unreachable, the call went to the other replica");
            self.failed_over = endpoint.failed_over;
        }
        if !endpoint.available && !self.left_rotation {
            println!("      ↪ {name} left the rotation (its health probe failed)");
            self.left_rotation = true;
        }
    }
}
