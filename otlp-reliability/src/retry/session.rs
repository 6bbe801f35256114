//! One retry session: the attempts of one call, the delays between them, the budget and the
//! deadline, as one `async` body (boxed once per call in a [`ResponseFuture`](super::ResponseFuture)).

use std::sync::Arc;
use std::time::Duration;

use otlp_core::{BoxError, Error, ErrorKind, MAX_RETRY_AFTER};
use tokio::time::Instant;
use tower::retry::budget::Budget;
use tower::{Service, ServiceExt};

use super::stats::{bump, Waiting};
use super::{BudgetExhausted, Shared};
use crate::Classify;

pub(super) async fn session<S, C, Request>(
    inner: S,
    shared: Arc<Shared<C>>,
    request: Request,
) -> Result<S::Response, BoxError>
where
    S: Service<Request, Error = BoxError> + Clone,
    Request: Clone,
    C: Classify,
{
    let stats = &shared.stats;
    let config = &shared.config;
    bump(&stats.sessions);
    if let Some(budget) = &shared.budget {
        budget.deposit();
    }
    let started = Instant::now();
    let deadline = config.total_timeout.and_then(|t| started.checked_add(t));
    // An attempt timeout as long as the whole session would forbid every retry: it then only
    // bounds nothing, and attempts start until the deadline.
    let attempt_timeout = config
        .attempt_timeout
        .filter(|t| config.total_timeout.is_none_or(|total| *t < total))
        .unwrap_or(Duration::ZERO);
    // Whether an attempt starting after `delay` could finish before the deadline. The delay may
    // come from the network (a custom `Classify` need not cap it), so the sums are checked: a
    // time past the end of the clock is past any deadline too.
    let fits = |delay: Duration| {
        deadline.is_none_or(|deadline| {
            Instant::now()
                .checked_add(delay)
                .and_then(|start| start.checked_add(attempt_timeout))
                .is_some_and(|end| end <= deadline)
        })
    };
    let mut rng = fastrand::Rng::new();
    let mut attempt = 1;
    let mut last: Option<BoxError> = None;
    loop {
        bump(&stats.attempts);
        let call = inner.clone().oneshot(request.clone());
        let result = match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline, call).await {
                Ok(result) => result,
                Err(_) => {
                    bump(&stats.deadline_exceeded);
                    return Err(last.unwrap_or_else(|| {
                        let elapsed = started.elapsed();
                        let message = format!(
                            "no answer within the total timeout ({elapsed:?}, attempt {attempt})"
                        );
                        Error::new(ErrorKind::DeadlineExceeded, message).into()
                    }));
                }
            },
            None => call.await,
        };
        let error = match result {
            Ok(response) => return Ok(response),
            Err(error) => error,
        };
        let failure = shared.classify.classify(&error);
        if !failure.retryable {
            return Err(error);
        }
        if attempt >= config.max_attempts {
            bump(&stats.attempts_exhausted);
            return Err(error);
        }
        let mut delay = failure
            .retry_after
            .map(|delay| delay.min(MAX_RETRY_AFTER))
            .unwrap_or_else(|| config.backoff.delay(attempt, &mut rng));
        let mut denied = 0u32;
        loop {
            if !fits(delay) {
                if denied > 0 {
                    bump(&stats.budget_exhausted);
                    return Err(BudgetExhausted::new(attempt, error).into());
                }
                bump(&stats.deadline_exceeded);
                return Err(error);
            }
            tracing::debug!(attempt, ?delay, %error, "retrying export");
            {
                let _waiting = Waiting::start(&stats.waiting);
                tokio::time::sleep(delay).await;
            }
            let Some(budget) = &shared.budget else { break };
            if budget.withdraw() {
                break;
            }
            bump(&stats.budget_denied);
            denied += 1;
            // Without a deadline, waiting is bounded by the attempts the session had left.
            if deadline.is_none() && denied >= config.max_attempts {
                bump(&stats.budget_exhausted);
                return Err(BudgetExhausted::new(attempt, error).into());
            }
            delay = config
                .backoff
                .delay(attempt + denied, &mut rng)
                .max(Duration::from_millis(10));
        }
        last = Some(error);
        attempt += 1;
        bump(&stats.retries);
    }
}
