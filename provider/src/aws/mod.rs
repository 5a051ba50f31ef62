//! Every AWS call of the provider lives here: client construction (lazy, on first
//! use, so offline data sources need no credentials) and `find_*` / `wait_*` /
//! `create_*` / `delete_*` functions over EC2 and EKS. Describes are batched with
//! filters so cost grows with the work, not with the number of objects read.
//! Nothing here knows Terraform; callers turn [`AwsError`] into diagnostics.

pub mod ec2;
pub mod eks;
pub mod error;
#[cfg(test)]
pub mod fake;
pub mod handover;
pub mod throttle;

pub use ec2::{endpoints, Ec2};
pub use eks::Eks;
pub use error::Conflict;

pub use throttle::with_deadline;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use tfplugin5::typed::StopToken;
use tokio::sync::OnceCell;

/// Provider settings that shape the AWS clients.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub assume_role: Option<AssumeRole>,
    pub endpoint_ec2: Option<String>,
    pub endpoint_eks: Option<String>,
    pub max_retries: Option<u32>,
}

#[derive(Clone, PartialEq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

impl std::fmt::Debug for AssumeRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumeRole")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("external_id", &self.external_id.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// The clients, built once.
pub struct Clients {
    /// The SDK's client, or the fake in unit tests.
    pub ec2: std::sync::Arc<dyn Ec2>,
    pub eks: std::sync::Arc<dyn Eks>,
    pub region: String,
    /// The endpoint URL each client sends to, for diagnostics.
    pub ec2_endpoint: String,
    pub eks_endpoint: String,
    /// Attempts per call, retries included (`max_retries` + 1).
    pub max_attempts: u32,
    /// What one phase read, for the next phase of this process.
    pub handover: handover::Handover,
}

impl Clients {
    /// Adds what only the clients know to an error from one of their calls: the endpoint
    /// an unreachable service was tried at, and how many attempts a retryable error got.
    pub fn explain(&self, err: AwsError) -> AwsError {
        let retried = |message: String| match self.max_attempts {
            1 => format!("{message}; the provider made one attempt (`max_retries` = 0)"),
            n => format!("{message}; the provider gave up after at most {n} attempts"),
        };
        match err {
            AwsError::Unreachable { operation, message, endpoint: None } => {
                let endpoint = if operation.starts_with("eks:") { &self.eks_endpoint } else { &self.ec2_endpoint };
                AwsError::Unreachable { operation, message: retried(message), endpoint: Some(endpoint.clone()) }
            }
            AwsError::Api { operation, code, message } if is_throttling_code(&code) => AwsError::Api {
                operation,
                message: format!("{message}; AWS kept throttling the call until the operation's deadline"),
                code,
            },
            AwsError::Api { operation, code, message } if is_retryable_code(&code) => {
                AwsError::Api { operation, message: retried(message), code }
            }
            other => other,
        }
    }
}

/// Throttling answers: retried until the operation's deadline (`throttle`), whatever
/// `max_retries` says.
fn is_throttling_code(code: &str) -> bool {
    throttle::THROTTLING_CODES.contains(&code)
}

/// Error codes the SDK's standard retry mode retries: throttling and server faults.
fn is_retryable_code(code: &str) -> bool {
    is_throttling_code(code)
        || matches!(
            code,
            "SlowDown"
                | "PriorRequestNotComplete"
                | "InternalError"
                | "InternalFailure"
                | "InternalServerError"
                | "ServerException"
                | "ServiceUnavailable"
                | "ServiceUnavailableException"
        )
        || code.starts_with("HTTP 5")
}

/// Logs each AWS request attempt at debug (trace when it succeeded), so `TF_LOG=debug`
/// shows every retry as it happens. Only the operation, attempt, HTTP status and error
/// text: never headers, so never a signature or a token.
#[derive(Debug)]
struct AttemptLog;

impl aws_smithy_runtime_api::client::interceptors::Intercept for AttemptLog {
    fn name(&self) -> &'static str {
        "hybridnet::AttemptLog"
    }

    fn read_after_attempt(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        use aws_smithy_runtime_api::client::orchestrator::Metadata;
        use aws_smithy_runtime_api::client::retries::RequestAttempts;
        let attempt = cfg.load::<RequestAttempts>().map_or(1, RequestAttempts::attempts);
        let operation = cfg
            .load::<Metadata>()
            .map(|m| format!("{}:{}", m.service().to_ascii_lowercase(), m.name()))
            .unwrap_or_default();
        let status = context.response().map_or_else(|| "none".to_string(), |r| r.status().as_u16().to_string());
        match context.output_or_error() {
            Some(Err(e)) => tracing::debug!(target: "hybridnet::aws", operation = %operation, attempt,
                status = %status, error = %error_chain(e), "AWS request attempt failed"),
            _ => tracing::trace!(target: "hybridnet::aws", operation = %operation, attempt, status = %status,
                "AWS request attempt"),
        }
        Ok(())
    }
}

/// The URL a client of `service` sends to: the provider's `endpoints` setting, then
/// AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL (or the profile's endpoint_url),
/// then the regional default.
fn endpoint_for(service: &str, explicit: Option<&str>, config: &aws_config::SdkConfig, region: &str) -> String {
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    explicit
        .map(str::to_string)
        .or_else(|| std::env::var(format!("AWS_ENDPOINT_URL_{}", service.to_ascii_uppercase())).ok())
        .filter(|u| !u.is_empty())
        .or_else(|| config.endpoint_url().map(str::to_string))
        .map(|u| without_userinfo(&u))
        .unwrap_or_else(|| format!("https://{service}.{region}.{suffix}"))
}

/// `scheme://user:secret@host/...` → `scheme://host/...`: URLs go into diagnostics.
fn without_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    }
}

/// Lazily-built AWS clients.
pub struct Aws {
    settings: AwsSettings,
    clients: OnceCell<Clients>,
}

/// The AWS settings of the current provider configuration, shared by every type: set
/// by Configure, clients made on first use (so configurations using only
/// `hybridnet_cidr_plan` need no credentials).
pub struct ConfiguredAws {
    aws: tokio::sync::RwLock<std::sync::Arc<Aws>>,
}

impl Default for ConfiguredAws {
    fn default() -> Self {
        ConfiguredAws { aws: tokio::sync::RwLock::new(std::sync::Arc::new(Aws::new(AwsSettings::default()))) }
    }
}

impl ConfiguredAws {
    /// The AWS clients of the current configuration.
    pub async fn aws(&self) -> std::sync::Arc<Aws> {
        self.aws.read().await.clone()
    }

    /// Configure: new settings, clients made again on first use.
    pub async fn configure(&self, settings: AwsSettings) {
        *self.aws.write().await = std::sync::Arc::new(Aws::new(settings));
    }
}

/// What went wrong talking to AWS, in terms a user can act on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AwsError {
    #[error("no AWS region is configured")]
    NoRegion,
    #[error("no AWS credentials for {operation}: {message}")]
    NoCredentials { operation: &'static str, message: String },
    #[error("could not reach AWS for {operation}: {message}")]
    Unreachable { operation: &'static str, message: String, endpoint: Option<String> },
    #[error("AWS {operation} failed: {code}: {message}")]
    Api { operation: &'static str, code: String, message: String },
    #[error("timed out waiting for {what}")]
    Timeout { what: String },
    /// The attachment of the VPC to the gateway reached a state it cannot leave by
    /// itself (failed, rejected, deleted) while the apply needed it.
    #[error("attachment {id} of {vpc_id} to {gateway} is {state}")]
    AttachmentState { id: String, gateway: String, vpc_id: String, state: String },
    /// Our own conflict with what AWS holds (no AWS call failed).
    #[error("{0}")]
    Conflict(Conflict),
    #[error("operation cancelled")]
    Cancelled,
}

impl AwsError {
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code().is_some_and(|c| c.contains("NotFound") || c == "ResourceNotFoundException")
    }

    /// A short summary and a detail that says how to fix it.
    pub fn summary_and_detail(&self) -> (String, String) {
        match self {
            AwsError::NoRegion => (
                "No AWS region configured".into(),
                "Set `region` in the provider \"hybridnet\" block, or AWS_REGION in the environment, or a region in \
                 the selected AWS profile."
                    .into(),
            ),
            AwsError::NoCredentials { operation, message } => (
                format!("No AWS credentials ({operation})"),
                format!(
                    "{message}. Provide credentials through the environment (AWS_ACCESS_KEY_ID / \
                     AWS_SECRET_ACCESS_KEY, AWS_PROFILE), the shared credentials file, SSO (aws sso login), web \
                     identity, or an instance profile; or set `profile` / `assume_role` in the provider block."
                ),
            ),
            AwsError::Unreachable { operation, message, endpoint } => (
                format!("Cannot reach AWS ({operation})"),
                format!(
                    "{where_}{message}. Check network access to that endpoint, the provider's `endpoints` settings \
                     and AWS_ENDPOINT_URL, and that AWS credentials are available (environment, shared config, \
                     SSO, web identity or instance profile).",
                    where_ = endpoint.as_ref().map(|e| format!("The request to {e} failed: ")).unwrap_or_default()
                ),
            ),
            AwsError::Api { operation, code, message } => {
                let advice = if is_throttling_code(code) {
                    "The operation's `timeouts` ran out while AWS kept throttling: EC2 limits the requests of an \
                     account and Region, and other clients of the account share them. To fix it, raise the \
                     resource's `timeouts`, or run fewer resources at once (`terraform apply -parallelism=N`); a \
                     re-run resumes where this one stopped. If it persists, ask AWS for higher EC2 API request \
                     limits."
                        .to_string()
                } else if is_retryable_code(code) {
                    "Every attempt failed on AWS's side (a server error or an overloaded service), not because \
                     of the configuration. Re-run later (apply resumes where this one stopped), or raise \
                     `max_retries` in the provider block."
                        .to_string()
                } else if code.contains("AccessDenied") || code.contains("Unauthorized") || code == "AuthFailure" {
                    format!(
                        "The AWS identity the provider runs as may not call {operation}: allow it in that identity's \
                         IAM policy (the provider documentation lists every action it needs)."
                    )
                } else if self.is_not_found() {
                    "Check the IDs in the configuration and the provider's region.".to_string()
                } else {
                    "Check the IDs in the configuration and the caller's IAM permissions.".to_string()
                };
                (format!("AWS {operation} failed: {code}"), format!("{message} (error code {code}). {advice}"))
            }
            AwsError::Timeout { what } => (
                format!("Timed out waiting for {what}"),
                "Raise the corresponding value in the resource's `timeouts` block, or check the object in the AWS \
                 console; re-running apply resumes where this one stopped."
                    .into(),
            ),
            AwsError::AttachmentState { id, gateway, vpc_id, state } => {
                attachment_state_text(id, gateway, vpc_id, state)
            }
            AwsError::Conflict(c) => c.summary_and_detail(),
            AwsError::Cancelled => (
                "Operation cancelled".into(),
                "Terraform asked the provider to stop; what was created so far is recorded in the state.".into(),
            ),
        }
    }
}

/// Summary and detail for an attachment found in a state it cannot leave by itself.
fn attachment_state_text(id: &str, gateway: &str, vpc_id: &str, state: &str) -> (String, String) {
    let kind = if gateway.starts_with("tgw-") { "Transit gateway attachment" } else { "VPN gateway attachment" };
    let cause = match state {
        "rejected" | "rejecting" => format!(
            "The owner account of transit gateway {gateway} rejected the attachment of VPC {vpc_id}. Ask that \
             account to accept the next attachment (or to enable auto-accept of shared attachments on the gateway), \
             then apply again."
        ),
        "pendingAcceptance" => {
            return (
                format!("{kind} {id} awaits acceptance"),
                format!(
                    "The attachment of VPC {vpc_id} to {gateway} waits for the gateway's owner account to accept it, \
                     which the plan did not expect (the gateway's owner or its auto-accept setting changed since). \
                     It is recorded in the state. Accept it in the gateway's account, or enable auto-accept of \
                     shared attachments on the gateway, then plan and apply again."
                ),
            )
        }
        "deleted" | "deleting" => {
            return (
                format!("{kind} {id} is {state}"),
                format!(
                    "The attachment of VPC {vpc_id} to {gateway} was deleted while the apply waited for it (by \
                     someone else, or by the gateway's owner account). Apply again to create a new one."
                ),
            )
        }
        _ => format!(
            "AWS could not attach VPC {vpc_id} to {gateway}. Check that the attachment subnets are in Availability \
             Zones the gateway supports, that the VPC's CIDRs do not overlap another attachment's, and that the \
             gateway is still shared with this account (`aws ec2 describe-transit-gateway-vpc-attachments \
             --transit-gateway-attachment-ids {id}` shows the attachment), then apply again."
        ),
    };
    (
        format!("{kind} {id} is {state}"),
        format!(
            "{cause} The attachment is recorded in the state: the next apply deletes it and creates a new one, and \
             destroy deletes it."
        ),
    )
}

/// Converts an SDK error into an [`AwsError`], keeping the AWS error code.
pub fn sdk_error<E>(
    operation: &'static str,
    err: aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> AwsError
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use aws_sdk_ec2::error::ProvideErrorMetadata as _;
    use aws_smithy_runtime_api::client::result::SdkError;
    match &err {
        SdkError::ServiceError(ctx) => {
            // An answer without an AWS error body (a proxy's or load balancer's page):
            // the HTTP status is all there is to name.
            let status = ctx.raw().status().as_u16();
            AwsError::Api {
                operation,
                code: err.code().map_or_else(|| format!("HTTP {status}"), str::to_string),
                message: err.message().map_or_else(
                    || format!("the endpoint answered HTTP {status} without an AWS error message"),
                    str::to_string,
                ),
            }
        }
        SdkError::TimeoutError(_) => {
            AwsError::Unreachable { operation, message: "the request timed out".into(), endpoint: None }
        }
        _ => {
            // Dispatch and construction failures (connection refused, DNS, no
            // credentials): the chain of causes is the useful part.
            let text = error_chain(&err);
            if text.contains("no credentials") || text.contains("credential provider") {
                AwsError::NoCredentials { operation, message: text }
            } else {
                AwsError::Unreachable { operation, message: text, endpoint: None }
            }
        }
    }
}

/// "outer: cause: root cause", skipping repeats.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = e.source();
    }
    parts.join(": ")
}

impl Aws {
    pub fn new(settings: AwsSettings) -> Self {
        Aws { settings, clients: OnceCell::new() }
    }

    pub fn settings(&self) -> &AwsSettings {
        &self.settings
    }

    /// The clients, built on first use.
    pub async fn clients(&self) -> Result<&Clients, AwsError> {
        self.clients.get_or_try_init(|| build_clients(&self.settings)).await
    }
}

async fn build_clients(s: &AwsSettings) -> Result<Clients, AwsError> {
    let attempts = s.max_retries.unwrap_or(5).saturating_add(1).clamp(1, 26); // max_retries is at most 25: 26 attempts
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(attempts).with_max_backoff(Duration::from_secs(20)))
        // No operation or attempt timeout of the SDK's: they would cut a wait for EC2's
        // tokens short. `throttle::Throttled` bounds each HTTP exchange instead, and a
        // throttled call by the operation's deadline.
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .read_timeout(throttle::ATTEMPT_TIMEOUT)
                .build(),
        );
    if let Some(r) = &s.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(p) = &s.profile {
        loader = loader.profile_name(p);
    }
    let mut config = loader.load().await;
    let region = config.region().map(|r| r.to_string()).ok_or(AwsError::NoRegion)?;
    if let Some(role) = &s.assume_role {
        let mut b = aws_config::sts::AssumeRoleProvider::builder(role.role_arn.clone())
            .session_name(role.session_name.clone().unwrap_or_else(|| "hybridnet".into()))
            .region(Region::new(region.clone()));
        if let Some(ext) = &role.external_id {
            b = b.external_id(ext.clone());
        }
        let provider = b.configure(&config).build().await;
        config = config
            .into_builder()
            .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(provider))
            .build();
    }
    let mut ec2 = aws_sdk_ec2::config::Builder::from(&config).interceptor(AttemptLog);
    let mut eks = aws_sdk_eks::config::Builder::from(&config).interceptor(AttemptLog);
    // Every attempt of every resource of this process passes one limiter (EC2's buckets).
    if let Some(http) = config.http_client().or_else(default_http_client) {
        let limiter = process_limiter();
        ec2 = ec2
            .http_client(throttle::Throttled::new(http.clone(), limiter.clone(), true))
            .retry_classifier(throttle::NoThrottleRetryPastDeadline)
            .interceptor(throttle::ThrottlingIsNoAttempt);
        eks = eks
            .http_client(throttle::Throttled::new(http, limiter, false))
            .retry_classifier(throttle::NoThrottleRetryPastDeadline)
            .interceptor(throttle::ThrottlingIsNoAttempt);
    }
    if let Some(url) = &s.endpoint_ec2 {
        ec2 = ec2.endpoint_url(url);
    }
    if let Some(url) = &s.endpoint_eks {
        eks = eks.endpoint_url(url);
    }
    let ec2_endpoint = endpoint_for("ec2", s.endpoint_ec2.as_deref(), &config, &region);
    let eks_endpoint = endpoint_for("eks", s.endpoint_eks.as_deref(), &config, &region);
    tracing::debug!(target: "hybridnet::aws", region = %region, profile = ?s.profile, assume_role = s.assume_role.is_some(),
        ec2_endpoint = %ec2_endpoint, eks_endpoint = %eks_endpoint, "AWS clients ready");
    Ok(Clients {
        ec2: std::sync::Arc::new(aws_sdk_ec2::Client::from_conf(ec2.build())),
        eks: std::sync::Arc::new(aws_sdk_eks::Client::from_conf(eks.build())),
        ec2_endpoint,
        eks_endpoint,
        max_attempts: attempts,
        region,
        handover: handover::Handover::default(),
    })
}

/// The SDK's default HTTPS client (what the clients would use without ours around it).
fn default_http_client() -> Option<aws_smithy_runtime_api::client::http::SharedHttpClient> {
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
    use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin as _;
    let plugin = aws_smithy_runtime::client::defaults::default_http_client_plugin_v2(BehaviorVersion::latest())?;
    let components = plugin.runtime_components(&RuntimeComponentsBuilder::new("hybridnet")).into_owned();
    components.http_client()
}

/// The one limiter of the process: every Configure's clients share EC2's buckets,
/// which are the account's, not a configuration's.
fn process_limiter() -> std::sync::Arc<throttle::Limiter> {
    static LIMITER: std::sync::OnceLock<std::sync::Arc<throttle::Limiter>> = std::sync::OnceLock::new();
    LIMITER.get_or_init(Default::default).clone()
}

/// `Err(Cancelled)` once Terraform's Stop (Ctrl-C) was requested: checked between
/// mutations. (The registry also ends the apply at its next await on a stop.)
pub fn check_stop(stop: &StopToken) -> Result<(), AwsError> {
    if stop.is_stopped() {
        Err(AwsError::Cancelled)
    } else {
        Ok(())
    }
}

/// Polls `check` until it returns `Some` or the deadline passes. A stop ends the wait
/// at once: the registry drops the apply at its next await.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, AwsError>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = Duration::from_millis(250);
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if tokio::time::Instant::now() + delay > deadline {
            return Err(AwsError::Timeout { what: what.to_string() });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> Clients {
        let ec2 = aws_sdk_ec2::Config::builder().behavior_version(BehaviorVersion::latest()).build();
        let eks = aws_sdk_eks::Config::builder().behavior_version(BehaviorVersion::latest()).build();
        Clients {
            ec2: std::sync::Arc::new(aws_sdk_ec2::Client::from_conf(ec2)),
            eks: std::sync::Arc::new(aws_sdk_eks::Client::from_conf(eks)),
            region: "eu-west-1".into(),
            ec2_endpoint: "http://127.0.0.1:4566".into(),
            eks_endpoint: "https://eks.eu-west-1.amazonaws.com".into(),
            max_attempts: 6,
            handover: handover::Handover::default(),
        }
    }

    #[test]
    fn endpoint_precedence_explicit_then_shared_config_then_regional_default() {
        let none = aws_config::SdkConfig::builder().build();
        let shared = aws_config::SdkConfig::builder().endpoint_url("http://localhost:5000").build();
        // A service name no environment sets, so AWS_ENDPOINT_URL_<SERVICE> is absent.
        let svc = "hybridnettestsvc";
        assert_eq!(endpoint_for(svc, Some("http://127.0.0.1:1"), &shared, "us-east-1"), "http://127.0.0.1:1");
        assert_eq!(endpoint_for(svc, None, &shared, "us-east-1"), "http://localhost:5000");
        assert_eq!(endpoint_for(svc, None, &none, "eu-west-1"), "https://hybridnettestsvc.eu-west-1.amazonaws.com");
        assert_eq!(
            endpoint_for(svc, None, &none, "cn-north-1"),
            "https://hybridnettestsvc.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn endpoint_userinfo_never_reaches_a_diagnostic() {
        assert_eq!(without_userinfo("http://user:s3cret@proxy:8080/x@y"), "http://proxy:8080/x@y");
        assert_eq!(without_userinfo("https://ec2.us-east-1.amazonaws.com"), "https://ec2.us-east-1.amazonaws.com");
        assert_eq!(without_userinfo("not a url"), "not a url");
        let none = aws_config::SdkConfig::builder().build();
        let url = endpoint_for("hybridnettestsvc", Some("http://a:b@127.0.0.1:9"), &none, "us-east-1");
        assert_eq!(url, "http://127.0.0.1:9");
    }

    #[test]
    fn unreachable_names_the_endpoint_of_the_operations_service() {
        let c = clients();
        let err = |op| AwsError::Unreachable { operation: op, message: "Connection refused".into(), endpoint: None };
        let (summary, detail) = c.explain(err("ec2:DescribeVpcs")).summary_and_detail();
        assert_eq!(summary, "Cannot reach AWS (ec2:DescribeVpcs)");
        assert!(
            detail.starts_with(
                "The request to http://127.0.0.1:4566 failed: Connection refused; the provider gave up after at \
                 most 6 attempts. Check network access"
            ),
            "{detail}"
        );
        let (_, detail) = c.explain(err("eks:DescribeCluster")).summary_and_detail();
        assert!(detail.contains("https://eks.eu-west-1.amazonaws.com"), "{detail}");
        // Retryable AWS errors say how often they were tried; others pass through unchanged.
        let api = |code: &str| AwsError::Api { operation: "ec2:CreateRoute", code: code.into(), message: "m".into() };
        // Throttling is retried until the operation's deadline, not max_retries times.
        for code in ["RequestLimitExceeded", "ThrottlingException", "EC2ThrottledException"] {
            let (_, detail) = c.explain(api(code)).summary_and_detail();
            assert!(detail.starts_with("m; AWS kept throttling the call until the operation's deadline"), "{detail}");
            assert!(detail.contains("The operation's `timeouts` ran out while AWS kept throttling"), "{detail}");
            assert!(detail.contains("raise the resource's `timeouts`"), "{detail}");
            assert!(detail.contains("run fewer resources at once (`terraform apply -parallelism=N`)"), "{detail}");
            assert!(detail.contains("a re-run resumes where this one stopped"), "{detail}");
            assert!(!detail.contains("max_retries"), "{detail}");
        }
        // Server errors are bounded by max_retries, and the advice does not call them throttling.
        for code in ["InternalError", "HTTP 503", "ServiceUnavailable", "ServerException"] {
            let (_, detail) = c.explain(api(code)).summary_and_detail();
            assert!(detail.starts_with("m; the provider gave up after at most 6 attempts (error code"), "{detail}");
            assert!(detail.contains("Every attempt failed on AWS's side"), "{detail}");
            assert!(detail.contains("raise `max_retries`"), "{detail}");
            assert!(!detail.contains("throttl"), "{detail}");
        }
        for code in ["RouteAlreadyExists", "UnauthorizedOperation", "HTTP 403"] {
            assert_eq!(c.explain(api(code)).to_string(), api(code).to_string());
        }
        let (_, detail) = api("UnauthorizedOperation").summary_and_detail();
        assert!(detail.contains("may not call ec2:CreateRoute: allow it in that identity's IAM policy"), "{detail}");
    }

    fn service_error(
        status: u16,
        code: Option<&str>,
    ) -> aws_smithy_runtime_api::client::result::SdkError<
        aws_sdk_ec2::operation::delete_route::DeleteRouteError,
        aws_smithy_runtime_api::http::Response,
    > {
        let mut meta = aws_smithy_types::error::ErrorMetadata::builder();
        if let Some(code) = code {
            meta = meta.code(code).message("The route does not exist");
        }
        let err = aws_sdk_ec2::operation::delete_route::DeleteRouteError::generic(meta.build());
        let raw = aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(status).expect("valid status"),
            aws_smithy_types::body::SdkBody::from("<html>Internal Server Error</html>"),
        );
        aws_smithy_runtime_api::client::result::SdkError::service_error(err, raw)
    }

    #[test]
    fn service_errors_keep_the_aws_code_or_name_the_http_status() {
        let e = sdk_error("ec2:DeleteRoute", service_error(400, Some("InvalidRoute.NotFound")));
        assert_eq!(e.code(), Some("InvalidRoute.NotFound"));
        assert!(e.is_not_found());
        // A body that is not an AWS error (a proxy's HTML page): the status is the code.
        let e = sdk_error("ec2:DeleteRoute", service_error(500, None));
        assert_eq!(e.code(), Some("HTTP 500"));
        let (summary, detail) = e.summary_and_detail();
        assert_eq!(summary, "AWS ec2:DeleteRoute failed: HTTP 500");
        assert!(detail.contains("answered HTTP 500 without an AWS error message"), "{detail}");
        assert!(!e.is_not_found());
    }
}

#[cfg(test)]
mod stop_tests {
    use super::*;

    #[test]
    fn a_stop_ends_only_the_work_of_its_own_token() {
        let (stopped, other) = (StopToken::new(), StopToken::new());
        stopped.stop();
        assert!(matches!(check_stop(&stopped), Err(AwsError::Cancelled)));
        assert!(check_stop(&other).is_ok(), "another provider instance is not stopped");
    }
}
