//! What every resource needs, in one place: the batch runner that records each call
//! as it completes, and AWS errors as diagnostics (endpoint and attempts included by
//! `Clients::explain` before they get here).

use futures::stream::{self, StreamExt};
use tfplugin5::{AttrPath, Diagnostics};

use crate::aws::AwsError;

/// How many AWS mutations run at once.
pub const CONCURRENCY: usize = 4;

/// Turns an AWS error into an error diagnostic.
pub fn aws_diag(err: &AwsError, path: Option<AttrPath>) -> Diagnostics {
    let (summary, detail) = err.summary_and_detail();
    Diagnostics::from_error(summary, detail, path)
}

/// Runs `calls` at most [`CONCURRENCY`] at a time and hands each success to `done` as
/// soon as it arrives, so an apply stopped part-way still records every call that
/// completed. Waits for the whole batch, then returns the first error.
pub async fn run_batch<T, F>(calls: impl IntoIterator<Item = F>, mut done: impl FnMut(T)) -> Result<(), AwsError>
where
    F: std::future::Future<Output = Result<T, AwsError>>,
{
    let mut results = stream::iter(calls).buffer_unordered(CONCURRENCY);
    let mut first_err = None;
    while let Some(result) = results.next().await {
        match result {
            Ok(v) => done(v),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    first_err.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_batch_dropped_part_way_has_recorded_every_completed_call() {
        // Call 1 completes, call 2 never does (a held request), call 3 fails.
        let calls = (1..=3).map(|n| async move {
            match n {
                2 => std::future::pending().await,
                3 => Err(AwsError::Cancelled),
                _ => Ok(n),
            }
        });
        let mut done = Vec::new();
        let batch = run_batch(calls, |n| done.push(n));
        // Stop: the batch is dropped while call 2 is in flight.
        let outcome = tokio::time::timeout(std::time::Duration::from_millis(50), batch).await;
        assert!(outcome.is_err(), "the batch cannot finish while call 2 is in flight");
        assert_eq!(done, [1]);
    }

    #[tokio::test]
    async fn a_batch_finishes_every_call_then_returns_the_first_error() {
        let calls = (1..=6).map(|n| async move {
            if n % 3 == 0 {
                Err(AwsError::Timeout { what: format!("call {n}") })
            } else {
                Ok(n)
            }
        });
        let mut done = Vec::new();
        let err = run_batch(calls, |n| done.push(n)).await.expect_err("two calls fail");
        done.sort();
        assert_eq!(done, [1, 2, 4, 5]);
        assert_eq!(err.to_string(), "timed out waiting for call 3");
    }
}
