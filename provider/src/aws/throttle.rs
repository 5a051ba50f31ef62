//! EC2's request limits, honoured by the whole provider process as one client.
//!
//! EC2 keeps token buckets per account and Region, one per category of action
//! ([`Category`]): mutating 50 + 5/s, resource-intensive (security group authorize and
//! revoke) 50 + 5/s apart, filtered or paginated reads 100 + 20/s, unfiltered reads
//! 50 + 10/s. A request that finds its bucket empty is answered 503
//! `RequestLimitExceeded`.
//!
//! [`Throttled`] wraps the SDK's HTTP client, so every attempt of every call of every
//! resource of the process passes through one [`Limiter`]:
//! - Before an attempt, the attempt takes a token from its category's bucket, a mirror
//!   of EC2's documented one: within the burst it goes at once (a single small apply
//!   never waits), beyond it the attempt waits its turn (a reservation, so concurrent
//!   callers are spread evenly and never wake together).
//! - The refill rate adapts like the SDK's adaptive mode (CUBIC): a throttling answer
//!   cuts the rate to 0.7 of what it was (once per round: answers to requests that took
//!   their token before the cut do not cut again) and empties the mirror; then the rate grows back
//!   along a cubic curve to where it was cut, and beyond, probing for more.
//! - A throttled attempt is sent again (the same signed request) until the operation's
//!   deadline ([`with_deadline`]: the resource's `timeouts`; reads and plans
//!   [`READ_BOUND`]), never a fixed count.
//! - A signed request is never sent more than [`SIGNATURE_WINDOW`] after it was signed:
//!   its wait for a turn ends at the window's end at the latest ([`wake_at`]); then its
//!   token goes back and the SDK gets a retryable throttling error (a [`ConnectorError`]
//!   of kind `ThrottlingError`), so it signs the request afresh and sends it again, which
//!   takes a new turn. A throttling answer past the window goes to the SDK likewise.
//! - Those SDK retries do not count against `max_retries`: [`ThrottlingIsNoAttempt`] (an
//!   interceptor) raises the operation's attempt budget by one after every attempt the
//!   retry classifiers call a retryable throttling one, and
//!   [`NoThrottleRetryPastDeadline`] forbids that retry once the deadline has passed. An
//!   interceptor rather than an own `RetryStrategy`: the SDK's config builders do not let
//!   a client set one, while the standard strategy reads the budget (`RetryConfig`) from
//!   the operation's config bag, which an interceptor may write. The SDK's attempt count
//!   and retry quota thus see the other errors only, and the throttling retries (one per
//!   window at most) with their backoff.
//! - A request that does not go out with its token (dropped by a stop or a deadline
//!   while waiting, woken by the deadline, or re-signed) gives it back ([`Token`]), so
//!   the requests behind it do not wait for it. One woken by the deadline goes out once,
//!   as the last try.
//! - Every HTTP exchange is bounded by [`ATTEMPT_TIMEOUT`] (the SDK's own attempt and
//!   operation timeouts would cut a wait for a token short).
//!
//! Why not the SDK's `RetryConfig::adaptive()`: its retries of throttling answers are
//! bounded by the attempt count and by the standard mode's retry quota, and its rate
//! limiter lets every waiting request go when its delay ends (no reservation), so
//! concurrent routes of many resources wake together and are throttled together.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use tokio::time::Instant;

/// How long a call of a read or a plan may keep being throttled.
pub const READ_BOUND: Duration = Duration::from_secs(300);
/// One HTTP exchange, from sending to the answer's headers.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one signed request may be sent again (SigV4 signatures expire; the SDK
/// signs afresh when it retries).
pub const SIGNATURE_WINDOW: Duration = Duration::from_secs(240);

/// CUBIC's constants, as in the SDKs' adaptive mode.
const BETA: f64 = 0.7;
const SCALE: f64 = 0.4;
/// The adaptive rate never goes below (requests per second) ...
const MIN_RATE: f64 = 0.5;
/// ... nor above this many times the documented refill.
const MAX_RATE_FACTOR: f64 = 10.0;

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Runs `fut` with `timeout` as the deadline of every AWS call in it: a throttled call is
/// retried until then. (`fut` goes to the heap: an apply's future is large, and each
/// layer that moves it would copy it on the stack.)
pub async fn with_deadline<F: std::future::Future>(timeout: Duration, fut: F) -> F::Output {
    DEADLINE.scope(Instant::now() + timeout, Box::pin(fut)).await
}

/// The deadline of the operation the caller runs in ([`with_deadline`]), else
/// [`READ_BOUND`] from now.
pub fn deadline() -> Instant {
    DEADLINE.try_with(|d| *d).unwrap_or_else(|_| Instant::now() + READ_BOUND)
}

/// EC2's bucket categories (EKS calls have a bucket of their own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Mutating,
    ResourceIntensive,
    Reads,
    UnfilteredReads,
    Eks,
}

/// Non-mutating EC2 actions that take neither filters nor pagination: EC2 counts them
/// with the filtered reads.
const SINGLE_OBJECT_READS: &[&str] = &["DescribeVpcAttribute", "DescribeAccountAttributes"];

impl Category {
    pub const ALL: [Category; 5] =
        [Category::Mutating, Category::ResourceIntensive, Category::Reads, Category::UnfilteredReads, Category::Eks];

    /// The category of an EC2 query-API request (its form-encoded body).
    pub fn of_ec2_body(body: &str) -> Category {
        let mut action = "";
        let mut narrowed = false;
        for pair in body.split('&') {
            let key = pair.split('=').next().unwrap_or_default();
            if key == "Action" {
                action = pair.split_once('=').map_or("", |(_, v)| v);
            } else if key.starts_with("Filter.") || key == "MaxResults" || key == "NextToken" {
                narrowed = true;
            }
        }
        Category::of_ec2(action, narrowed)
    }

    /// The category of EC2 action `action`; `narrowed`: sent with a filter or pagination.
    pub fn of_ec2(action: &str, narrowed: bool) -> Category {
        if matches!(
            action,
            "AuthorizeSecurityGroupIngress"
                | "AuthorizeSecurityGroupEgress"
                | "RevokeSecurityGroupIngress"
                | "RevokeSecurityGroupEgress"
        ) {
            Category::ResourceIntensive
        } else if ["Describe", "Get", "Search", "List"].iter().any(|p| action.starts_with(p)) {
            if narrowed || SINGLE_OBJECT_READS.contains(&action) {
                Category::Reads
            } else {
                Category::UnfilteredReads
            }
        } else {
            Category::Mutating
        }
    }

    /// EC2's documented bucket: (burst, refill per second).
    pub fn documented(self) -> (f64, f64) {
        match self {
            Category::Mutating | Category::ResourceIntensive => (50.0, 5.0),
            Category::Reads => (100.0, 20.0),
            Category::UnfilteredReads => (50.0, 10.0),
            // EKS documents no bucket; a generous prior that only adaptation lowers.
            Category::Eks => (100.0, 10.0),
        }
    }
}

/// One category's mirror of EC2's bucket, with CUBIC's rate.
#[derive(Debug, Clone)]
pub struct Bucket {
    burst: f64,
    refill: f64,
    /// Tokens left; below zero: requests waiting their turn.
    tokens: f64,
    last: Instant,
    /// CUBIC: the rate where it was last cut (or where probing began), the origin of the
    /// curve, and its K.
    w_max: f64,
    epoch: Option<(Instant, f64)>,
    /// When the rate was last cut: throttling answers to requests that took their token before do not
    /// cut it again.
    last_cut: Option<Instant>,
    throttled: u64,
}

impl Bucket {
    pub fn new(category: Category, now: Instant) -> Bucket {
        let (burst, refill) = category.documented();
        Bucket { burst, refill, tokens: burst, last: now, w_max: refill, epoch: None, last_cut: None, throttled: 0 }
    }

    /// Requests per second the mirror refills at now.
    pub fn rate(&self, now: Instant) -> f64 {
        match self.epoch {
            None => self.refill,
            Some((origin, k)) => {
                let t = now.saturating_duration_since(origin).as_secs_f64();
                (SCALE * (t - k).powi(3) + self.w_max).clamp(MIN_RATE, self.refill * MAX_RATE_FACTOR)
            }
        }
    }

    fn advance(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        let rate = self.rate(now);
        // Once throttled, the mirror's burst refills no faster than the rate that was
        // safe: a pause must not let a probed-up rate fill a burst EC2 does not have.
        let burst_rate = if self.last_cut.is_some() { rate.min(BETA * self.w_max).max(MIN_RATE) } else { rate };
        if self.tokens < 0.0 {
            let to_zero = -self.tokens / rate;
            if dt <= to_zero {
                self.tokens += rate * dt;
            } else {
                self.tokens = ((dt - to_zero) * burst_rate).min(self.burst);
            }
        } else {
            self.tokens = (self.tokens + burst_rate * dt).min(self.burst);
        }
    }

    /// Takes a token: how long the request waits before it may be sent.
    pub fn acquire(&mut self, now: Instant) -> Duration {
        self.advance(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            return Duration::ZERO;
        }
        if self.epoch.is_none() {
            // The burst is spent: from here the rate grows along the curve (K = 0),
            // probing for a bucket larger than the documented one.
            self.w_max = self.refill;
            self.epoch = Some((now, 0.0));
        }
        Duration::from_secs_f64(-self.tokens / self.rate(now))
    }

    /// Gives back the token of a request that took it at `acquired` and is not sent
    /// with it (dropped, or woken early): the requests behind it are not kept waiting
    /// for it. A token taken before the last cut is not given back: the cut forgot the
    /// queue it stood in.
    pub fn give_back(&mut self, now: Instant, acquired: Instant) {
        self.advance(now);
        if !self.cut_after(acquired) {
            self.tokens = (self.tokens + 1.0).min(self.burst);
        }
    }

    /// A throttling answer to a request that took its token at `acquired`.
    pub fn throttled(&mut self, now: Instant, acquired: Instant) {
        self.advance(now);
        self.throttled += 1;
        self.tokens = self.tokens.min(0.0);
        if self.cut_after(acquired) {
            return;
        }
        // EC2's bucket is empty: so is the mirror. Requests that took their turn at the
        // old rate and still wait take a new one (see `cut_after`), so the queue is
        // forgotten here rather than counted twice.
        self.tokens = 0.0;
        let rate = self.rate(now);
        self.w_max = rate;
        self.epoch = Some((now, (rate * (1.0 - BETA) / SCALE).cbrt()));
        self.last_cut = Some(now);
        tracing::debug!(target: "hybridnet::aws", rate = BETA * rate, "throttled: send rate cut");
    }

    /// Whether the rate was cut after `t`: a request that took its turn before waits
    /// again at the new rate instead of going out at the old one.
    pub fn cut_after(&self, t: Instant) -> bool {
        self.last_cut.is_some_and(|cut| cut > t)
    }

    pub fn throttled_count(&self) -> u64 {
        self.throttled
    }
}

/// The buckets of one process (one per category), shared by every client and resource.
#[derive(Debug)]
pub struct Limiter {
    buckets: Mutex<Vec<(Category, Bucket)>>,
}

impl Default for Limiter {
    fn default() -> Self {
        let now = Instant::now();
        Limiter { buckets: Mutex::new(Category::ALL.iter().map(|&c| (c, Bucket::new(c, now))).collect()) }
    }
}

impl Limiter {
    fn with<T>(&self, category: Category, f: impl FnOnce(&mut Bucket) -> T) -> T {
        // A poisoned lock only means another thread panicked mid-update: the numbers
        // are still numbers.
        let mut all = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = all.iter_mut().find(|(c, _)| *c == category).map(|(_, b)| b);
        match bucket {
            Some(b) => f(b),
            None => f(&mut Bucket::new(category, Instant::now())),
        }
    }

    pub fn acquire(&self, category: Category) -> Duration {
        self.with(category, |b| b.acquire(Instant::now()))
    }

    pub fn give_back(&self, category: Category, acquired: Instant) {
        self.with(category, |b| b.give_back(Instant::now(), acquired));
    }

    pub fn throttled(&self, category: Category, acquired: Instant) {
        self.with(category, |b| b.throttled(Instant::now(), acquired));
    }

    pub fn cut_after(&self, category: Category, t: Instant) -> bool {
        self.with(category, |b| b.cut_after(t))
    }

    /// Throttling answers seen per category, for logs.
    pub fn throttled_counts(&self) -> Vec<(Category, u64)> {
        let all = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        all.iter().map(|(c, b)| (*c, b.throttled_count())).filter(|(_, n)| *n > 0).collect()
    }
}

/// The error codes AWS throttles with (EC2's, EKS's, and the SDKs' other spellings).
pub const THROTTLING_CODES: [&str; 8] = [
    "RequestLimitExceeded",
    "EC2ThrottledException",
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
];

/// Whether an answer is a throttling one: its status, and for a 503 or 400 the error
/// code in the body.
pub fn is_throttling(status: u16, body: &[u8]) -> bool {
    if status == 429 {
        return true;
    }
    if status != 503 && status != 400 {
        return false;
    }
    let text = String::from_utf8_lossy(body);
    THROTTLING_CODES.iter().any(|c| text.contains(&format!("<Code>{c}</Code>")) || text.contains(&format!("\"{c}\"")))
}

/// The SDK's HTTP client, with every attempt passing the [`Limiter`].
#[derive(Debug, Clone)]
pub struct Throttled {
    inner: SharedHttpClient,
    limiter: Arc<Limiter>,
    ec2: bool,
}

impl Throttled {
    /// `ec2`: requests are EC2 query-API calls (categorized by action); else EKS.
    pub fn new(inner: SharedHttpClient, limiter: Arc<Limiter>, ec2: bool) -> Throttled {
        Throttled { inner, limiter, ec2 }
    }
}

impl HttpClient for Throttled {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(ThrottledConnector {
            inner: self.inner.http_connector(settings, components),
            limiter: self.limiter.clone(),
            ec2: self.ec2,
        })
    }
}

#[derive(Debug)]
struct ThrottledConnector {
    inner: SharedHttpConnector,
    limiter: Arc<Limiter>,
    ec2: bool,
}

impl HttpConnector for ThrottledConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (inner, limiter) = (self.inner.clone(), self.limiter.clone());
        let category = match (self.ec2, request.body().bytes()) {
            (true, Some(body)) => Category::of_ec2_body(&String::from_utf8_lossy(body)),
            (true, None) => Category::Mutating,
            (false, _) => Category::Eks,
        };
        HttpConnectorFuture::new(send(inner, limiter, category, request))
    }
}

async fn send(
    inner: SharedHttpConnector,
    limiter: Arc<Limiter>,
    category: Category,
    request: HttpRequest,
) -> Result<HttpResponse, ConnectorError> {
    let deadline = deadline();
    let signed = Instant::now();
    let mut request = request;
    loop {
        let acquired = Instant::now();
        let wait = limiter.acquire(category);
        if !wait.is_zero() {
            // Gives the token back unless the request goes out with it (Stop or a
            // deadline drops this future mid-sleep).
            let token = Token { limiter: &limiter, category, acquired, held: true };
            let due = acquired + wait;
            tokio::time::sleep_until(wake_at(due, acquired, deadline, signed)).await;
            match after_wait(Instant::now(), due, deadline, signed) {
                AfterWait::Due => {
                    // The token stays taken: sent with it, or counted in the new turn
                    // (the cut forgot the queue it stood in).
                    token.spent();
                    if limiter.cut_after(category, acquired) && Instant::now() < deadline {
                        continue;
                    }
                }
                // The last try before the deadline goes out, but without the token of
                // a turn it did not wait for.
                AfterWait::PastDeadline => drop(token),
                AfterWait::Resign => {
                    drop(token);
                    tracing::debug!(target: "hybridnet::aws", ?category, "signature window ends before the turn: re-signing");
                    return Err(ConnectorError::other(
                        format!(
                            "the request's turn comes after its signature ({} s) expires: signed afresh and queued again",
                            SIGNATURE_WINDOW.as_secs()
                        )
                        .into(),
                        Some(aws_smithy_types::retry::ErrorKind::ThrottlingError),
                    ));
                }
            }
        }
        // A body that cannot be cloned (a stream) is sent once, as the SDK would.
        let again = request.try_clone();
        let response = match tokio::time::timeout(ATTEMPT_TIMEOUT, inner.call(request)).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(ConnectorError::timeout(format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs()).into()))
            }
        };
        let status = response.status().as_u16();
        if !matches!(status, 400 | 429 | 503) {
            return Ok(response);
        }
        // Read the (small) error body to see whether it is a throttling answer, then hand
        // it on unchanged.
        let mut response = response;
        let body = aws_smithy_types::byte_stream::ByteStream::new(response.take_body())
            .collect()
            .await
            .map_err(|e| ConnectorError::io(Box::new(e)))?
            .into_bytes();
        let throttling = is_throttling(status, &body);
        *response.body_mut() = SdkBody::from(body);
        if !throttling {
            return Ok(response);
        }
        limiter.throttled(category, acquired);
        let now = Instant::now();
        match again {
            Some(r) if now < deadline && now.duration_since(signed) < SIGNATURE_WINDOW => {
                tracing::debug!(target: "hybridnet::aws", ?category, "throttled: sending again");
                request = r;
            }
            _ => return Ok(response),
        }
    }
}

/// A token taken for an attempt that waits its turn; given back when dropped unless
/// [`Token::spent`].
struct Token<'a> {
    limiter: &'a Limiter,
    category: Category,
    acquired: Instant,
    held: bool,
}

impl Token<'_> {
    /// The attempt goes out with it (or took a new turn that counts it).
    fn spent(mut self) {
        self.held = false;
    }
}

impl Drop for Token<'_> {
    fn drop(&mut self) {
        if self.held {
            self.limiter.give_back(self.category, self.acquired);
        }
    }
}

/// When a request that took its token at `acquired` and is due at `due` wakes: at its
/// turn, but never past the operation's deadline nor past the end of its signature's
/// window (a request signed at `signed` is never sent later than that).
fn wake_at(due: Instant, acquired: Instant, deadline: Instant, signed: Instant) -> Instant {
    due.min(deadline.max(acquired)).min((signed + SIGNATURE_WINDOW).max(acquired))
}

/// What an attempt does once woken ([`wake_at`]) at `now`.
#[derive(Debug, PartialEq, Eq)]
enum AfterWait {
    /// Its turn came: it goes out (or takes a new turn if the rate was cut meanwhile).
    Due,
    /// The deadline came first: the last try goes out, its token given back.
    PastDeadline,
    /// Its signature's window ended first: the token goes back and the SDK signs the
    /// request afresh (a retryable throttling error), which then takes a new turn.
    Resign,
}

fn after_wait(now: Instant, due: Instant, deadline: Instant, signed: Instant) -> AfterWait {
    if now >= due {
        AfterWait::Due
    } else if now >= deadline || now < signed + SIGNATURE_WINDOW {
        AfterWait::PastDeadline
    } else {
        AfterWait::Resign
    }
}

/// Ends the SDK's retries of a throttling answer once the operation's deadline has
/// passed: [`Throttled`] retried it until then (the SDK retries one only when the
/// signature window ended first).
#[derive(Debug)]
pub struct NoThrottleRetryPastDeadline;

impl aws_smithy_runtime_api::client::retries::classifiers::ClassifyRetry for NoThrottleRetryPastDeadline {
    fn classify_retry(
        &self,
        _ctx: &aws_smithy_runtime_api::client::interceptors::context::InterceptorContext,
    ) -> aws_smithy_runtime_api::client::retries::classifiers::RetryAction {
        aws_smithy_runtime_api::client::retries::classifiers::RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(
        &self,
        _ctx: &aws_smithy_runtime_api::client::interceptors::context::InterceptorContext,
        previous: &aws_smithy_runtime_api::client::retries::classifiers::RetryAction,
    ) -> aws_smithy_runtime_api::client::retries::classifiers::RetryAction {
        use aws_smithy_runtime_api::client::retries::classifiers::{RetryAction, RetryReason};
        let throttling = matches!(
            previous,
            RetryAction::RetryIndicated(RetryReason::RetryableError {
                kind: aws_smithy_types::retry::ErrorKind::ThrottlingError,
                ..
            })
        );
        if throttling && Instant::now() >= deadline() {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "hybridnet::NoThrottleRetryPastDeadline"
    }

    fn priority(&self) -> aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority;
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// Makes a throttled attempt free: after an attempt the retry classifiers call a
/// throttling one (retryable: before the deadline, see [`NoThrottleRetryPastDeadline`]),
/// the operation's attempt budget (`max_retries` + 1, which the SDK's standard retry
/// strategy reads from the config bag) grows by one. So the SDK re-signs and retries a
/// throttled call (past [`SIGNATURE_WINDOW`]) until the deadline, and `max_retries` counts
/// only the other errors.
#[derive(Debug)]
pub struct ThrottlingIsNoAttempt;

impl aws_smithy_runtime_api::client::interceptors::Intercept for ThrottlingIsNoAttempt {
    fn name(&self) -> &'static str {
        "hybridnet::ThrottlingIsNoAttempt"
    }

    fn read_after_attempt(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef<'_>,
        runtime_components: &RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let action = aws_smithy_runtime::client::retries::classifiers::run_classifiers_on_ctx(
            runtime_components.retry_classifiers(),
            context.inner(),
        );
        if let Some(retry) = cfg.load::<aws_smithy_types::retry::RetryConfig>() {
            if let Some(more) = attempts_after(&action, retry.max_attempts()) {
                let retry = retry.clone().with_max_attempts(more);
                cfg.interceptor_state().store_put(retry);
            }
        }
        Ok(())
    }
}

/// The attempt budget after an attempt the retry classifiers judged `action`, when it
/// changes: one more after a retryable throttling answer.
fn attempts_after(
    action: &aws_smithy_runtime_api::client::retries::classifiers::RetryAction,
    max_attempts: u32,
) -> Option<u32> {
    use aws_smithy_runtime_api::client::retries::classifiers::{RetryAction, RetryReason};
    match action {
        RetryAction::RetryIndicated(RetryReason::RetryableError {
            kind: aws_smithy_types::retry::ErrorKind::ThrottlingError,
            ..
        }) => Some(max_attempts.saturating_add(1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn categories_follow_ec2s_buckets() {
        use Category::*;
        assert_eq!(Category::of_ec2_body("Action=CreateRoute&Version=2016-11-15&RouteTableId=rtb-1"), Mutating);
        assert_eq!(Category::of_ec2_body("Action=AuthorizeSecurityGroupIngress&GroupId=sg-1"), ResourceIntensive);
        assert_eq!(Category::of_ec2_body("Action=RevokeSecurityGroupEgress&GroupId=sg-1"), ResourceIntensive);
        assert_eq!(Category::of_ec2_body("Action=DescribeRouteTables&Filter.1.Name=vpc-id"), Reads);
        assert_eq!(Category::of_ec2_body("Action=DescribeSecurityGroups&MaxResults=5"), Reads);
        assert_eq!(Category::of_ec2_body("Action=DescribeSecurityGroups&GroupId.1=sg-1"), UnfilteredReads);
        assert_eq!(Category::of_ec2_body("Action=DescribeVpcAttribute&VpcId=vpc-1&Attribute=x"), Reads);
        assert_eq!(Category::of_ec2_body(""), Mutating);
    }

    #[test]
    fn throttling_answers_are_recognised_by_status_and_code() {
        let ec2 = b"<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>";
        assert!(is_throttling(503, ec2));
        assert!(is_throttling(429, b"{}"));
        assert!(is_throttling(400, br#"{"__type":"ThrottlingException"}"#));
        assert!(!is_throttling(503, b"<Code>ServiceUnavailable</Code>"));
        assert!(!is_throttling(400, b"<Code>InvalidPermission.Duplicate</Code>"));
        assert!(!is_throttling(500, ec2));
    }

    #[test]
    fn the_burst_is_free_and_then_requests_are_spread_at_the_refill_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::new(Category::Mutating, t0);
        for _ in 0..50 {
            assert_eq!(b.acquire(t0), Duration::ZERO);
        }
        // The 51st waits one refill interval, the 52nd two: reservations, not a herd.
        let w1 = b.acquire(t0);
        let w2 = b.acquire(t0);
        assert!((w1.as_secs_f64() - 0.2).abs() < 1e-9, "{w1:?}");
        assert!((w2.as_secs_f64() - 0.4).abs() < 1e-9, "{w2:?}");
        // Probing: without a throttling answer the rate grows beyond the documented 5/s.
        assert!(b.rate(t0 + secs(2.0)) > 7.0);
    }

    #[test]
    fn a_throttling_answer_cuts_the_rate_once_per_round_and_it_grows_back() {
        let t0 = Instant::now();
        let mut b = Bucket::new(Category::Mutating, t0);
        for _ in 0..60 {
            b.acquire(t0);
        }
        let t1 = t0 + secs(1.0);
        let before = b.rate(t1);
        b.throttled(t1, t1 - secs(0.1));
        let cut = b.rate(t1);
        assert!((cut - BETA * before).abs() < 1e-9, "{before} -> {cut}");
        // Answers to requests sent before the cut do not cut again.
        b.throttled(t1 + secs(0.05), t1 - secs(0.01));
        assert!((b.rate(t1 + secs(0.05)) - cut).abs() < 0.2, "the curve only");
        assert_eq!(b.throttled_count(), 2);
        // The mirror is empty: the next request waits.
        assert!(b.acquire(t1 + secs(0.05)) > Duration::ZERO);
        // Back at the old rate after K seconds, above it after.
        let k = (before * (1.0 - BETA) / SCALE).cbrt();
        assert!((b.rate(t1 + secs(k)) - before).abs() < 1e-6);
        assert!(b.rate(t1 + secs(k + 1.0)) > before);
        // A request sent after the cut that is throttled cuts again.
        let t2 = t1 + secs(k + 1.0);
        let high = b.rate(t2);
        b.throttled(t2, t1 + secs(0.5));
        assert!(b.rate(t2) < high);
    }

    #[test]
    fn after_throttling_a_pause_refills_the_burst_only_at_the_safe_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::new(Category::Mutating, t0);
        for _ in 0..50 {
            b.acquire(t0);
        }
        b.throttled(t0, t0);
        let safe = BETA * b.w_max;
        // Long after, the curve has probed far up, but the burst refilled at the safe rate.
        b.advance(t0 + secs(2.0));
        assert!(b.tokens <= safe * 2.0 + 1e-9, "{}", b.tokens);
        b.advance(t0 + secs(60.0));
        assert!((b.tokens - 50.0).abs() < 1e-9, "a long pause refills the whole burst");
    }

    #[tokio::test]
    async fn the_deadline_is_the_operations_or_the_read_bound() {
        let outside = deadline();
        assert!(outside > Instant::now() + READ_BOUND - secs(1.0));
        let inside = with_deadline(secs(5.0), async { deadline() }).await;
        assert!(inside <= Instant::now() + secs(5.0));
    }

    #[test]
    fn a_token_not_sent_with_is_given_back_unless_a_cut_forgot_it() {
        let t0 = Instant::now();
        let mut b = Bucket::new(Category::Mutating, t0);
        for _ in 0..50 {
            b.acquire(t0);
        }
        assert!((b.acquire(t0).as_secs_f64() - 0.2).abs() < 1e-9);
        b.give_back(t0, t0);
        // The next request takes the turn the dropped one left.
        assert!((b.acquire(t0).as_secs_f64() - 0.2).abs() < 1e-9);
        // A token taken before a cut: the cut emptied the mirror and forgot the queue.
        b.throttled(t0 + secs(0.1), t0 + secs(0.1));
        let tokens = b.tokens;
        b.give_back(t0 + secs(0.1), t0);
        assert_eq!(b.tokens, tokens);
    }

    #[test]
    fn a_dropped_waiting_attempt_gives_its_token_back() {
        let limiter = Limiter::default();
        for _ in 0..50 {
            assert_eq!(limiter.acquire(Category::Mutating), Duration::ZERO);
        }
        let acquired = Instant::now();
        assert!(limiter.acquire(Category::Mutating) > Duration::ZERO);
        // Dropped while waiting (Stop, deadline): the turn goes back.
        drop(Token { limiter: &limiter, category: Category::Mutating, acquired, held: true });
        // Without it the next one would wait two turns (0.4 s); time passing only shortens it.
        let next = limiter.acquire(Category::Mutating);
        assert!(next <= secs(0.2) + secs(1e-9), "{next:?}");
        // Spent: sent with it, nothing goes back.
        let acquired = Instant::now();
        Token { limiter: &limiter, category: Category::Mutating, acquired, held: true }.spent();
        assert!(limiter.acquire(Category::Mutating) > secs(0.3));
    }

    #[test]
    fn the_wait_for_a_turn_ends_with_the_signature_window_or_the_deadline() {
        let signed = Instant::now();
        let late_turn = signed + secs(300.0);
        let deadline = signed + secs(1800.0);
        // A turn past the window: woken at the window's end, and re-signed.
        let woke = wake_at(late_turn, signed, deadline, signed);
        assert_eq!(woke, signed + SIGNATURE_WINDOW);
        assert_eq!(after_wait(woke, late_turn, deadline, signed), AfterWait::Resign);
        // A second attempt of the same signed request has what is left of the window.
        let acquired = signed + secs(200.0);
        assert_eq!(wake_at(late_turn, acquired, deadline, signed), signed + SIGNATURE_WINDOW);
        // The deadline first: the last try goes out (token given back).
        let woke = wake_at(late_turn, signed, signed + secs(100.0), signed);
        assert_eq!(woke, signed + secs(100.0));
        assert_eq!(after_wait(woke, late_turn, signed + secs(100.0), signed), AfterWait::PastDeadline);
        // A turn within both: woken at it.
        let turn = signed + secs(3.0);
        assert_eq!(wake_at(turn, signed, deadline, signed), turn);
        assert_eq!(after_wait(turn, turn, deadline, signed), AfterWait::Due);
    }

    #[test]
    fn throttled_attempts_do_not_count_against_max_retries() {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryAction;
        use aws_smithy_types::retry::ErrorKind;
        assert_eq!(attempts_after(&RetryAction::retryable_error(ErrorKind::ThrottlingError), 1), Some(2));
        assert_eq!(attempts_after(&RetryAction::retryable_error(ErrorKind::ServerError), 1), None);
        assert_eq!(attempts_after(&RetryAction::transient_error(), 3), None);
        assert_eq!(attempts_after(&RetryAction::RetryForbidden, 3), None);
        assert_eq!(attempts_after(&RetryAction::NoActionIndicated, 3), None);
    }

    #[tokio::test]
    async fn throttling_is_retried_before_the_deadline_and_not_after() {
        use aws_smithy_runtime_api::client::interceptors::context::{Input, InterceptorContext};
        use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
        use aws_smithy_types::retry::ErrorKind;
        let ctx = InterceptorContext::new(Input::doesnt_matter());
        let throttled = RetryAction::retryable_error(ErrorKind::ThrottlingError);
        let c = NoThrottleRetryPastDeadline;
        let before = with_deadline(secs(600.0), async { c.classify_retry_v2(&ctx, &throttled) }).await;
        assert_eq!(before, RetryAction::NoActionIndicated);
        let after = with_deadline(Duration::ZERO, async { c.classify_retry_v2(&ctx, &throttled) }).await;
        assert_eq!(after, RetryAction::RetryForbidden);
        // Other errors are left to the SDK (and max_retries) past the deadline too.
        let server = RetryAction::retryable_error(ErrorKind::ServerError);
        let other = with_deadline(Duration::ZERO, async { c.classify_retry_v2(&ctx, &server) }).await;
        assert_eq!(other, RetryAction::NoActionIndicated);
    }
}
