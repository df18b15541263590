//! SDK failures sorted into [`FetchError`] variants: what failed, in terms a caller can act
//! on (back off, go anonymous, tell the user to log in), with the SDK's own words as the
//! detail.

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ecr_login_core::fetch::FetchError;
use ecr_login_core::identity::Identity;
use std::time::Duration;

/// An API failure reduced to what classification needs.
pub(crate) struct ApiError {
    pub(crate) code: Option<String>,
    pub(crate) message: String,
    kind: Transport,
}

enum Transport {
    /// The service answered with an error.
    Service,
    /// Our HTTPS client said what went wrong, and where ([`super::transport::Failure`]).
    Explained(FetchError),
    /// ECR answered, but not with a usable token.
    Malformed,
    Timeout,
    Unreachable,
    Other,
}

pub(crate) fn api_error<E, R>(e: SdkError<E, R>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let explained = super::transport::Failure::find(&e).map(|f| f.fetch_error());
    let kind = match &e {
        _ if explained.is_some() => Transport::Explained(explained.expect("checked")),
        SdkError::ServiceError(_) => Transport::Service,
        SdkError::TimeoutError(_) => Transport::Timeout,
        SdkError::DispatchFailure(d) if d.is_timeout() => Transport::Timeout,
        SdkError::DispatchFailure(_) => Transport::Unreachable,
        _ => Transport::Other,
    };
    let code = e.code().map(str::to_string);
    let message = match &e {
        SdkError::ServiceError(s) => s.err().message().unwrap_or_default().to_string(),
        _ => chain(&e),
    };
    ApiError {
        code,
        message,
        kind,
    }
}

pub(crate) fn malformed(what: &str) -> ApiError {
    ApiError {
        code: None,
        message: format!("ECR's answer is malformed: {what}"),
        kind: Transport::Malformed,
    }
}

/// A failed GetAuthorizationToken call, within `timeout`.
pub(crate) fn api(e: ApiError, identity: &Identity, timeout: Duration) -> FetchError {
    let code = e.code.unwrap_or_default();
    let detail = if e.message.is_empty() {
        code.clone()
    } else {
        e.message
    };
    let label = identity.label.clone();
    match (code.as_str(), e.kind) {
        (_, Transport::Explained(error)) => error,
        ("ThrottlingException" | "TooManyRequestsException", _) => FetchError::Throttled { detail },
        ("AccessDeniedException", _) => FetchError::AccessDenied {
            identity: label,
            detail,
        },
        (
            "ExpiredTokenException"
            | "ExpiredToken"
            | "RequestExpired"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "InvalidSignatureException"
            | "SignatureDoesNotMatch",
            _,
        ) => FetchError::CredentialsRejected {
            identity: label,
            code,
            detail,
            profile: identity.profile.clone(),
        },
        ("ServerException", _) => FetchError::ServerError { detail },
        (_, Transport::Timeout) => FetchError::TimedOut {
            after_ms: timeout.as_millis() as u64,
        },
        (_, Transport::Unreachable) => FetchError::Unreachable { detail },
        (_, Transport::Service) => FetchError::Refused { code, detail },
        (_, Transport::Malformed) => FetchError::MalformedToken { detail },
        (_, Transport::Other) => FetchError::Other { detail },
    }
}

/// An error and its sources as one line, without the Debug dumps the SDK's own
/// `DisplayErrorContext` appends, and without repeating a message its cause already says.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if !text.is_empty() && !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

/// A failure to load the credentials that would sign the request, within `budget`.
pub(crate) fn credentials(
    e: &CredentialsError,
    identity: &Identity,
    budget: Duration,
) -> FetchError {
    if let Some(failure) = super::transport::Failure::find(e) {
        return failure.fetch_error();
    }
    let detail = chain(e);
    let lower = detail.to_ascii_lowercase();
    let label = identity.label.clone();
    if lower.contains("sso") && (lower.contains("expired") || lower.contains("token")) {
        return FetchError::SsoExpired {
            profile: identity.profile.clone().unwrap_or_else(|| "default".into()),
        };
    }
    // aws-config's login provider keeps its error type private: its words are all we have.
    if lower.contains("login token") || lower.contains("/login/cache/") {
        return FetchError::LoginExpired {
            profile: identity.profile.clone().unwrap_or_else(|| "default".into()),
        };
    }
    let from_default_chain = identity.role_arn.is_none() && !identity.profile_from_config;
    match e {
        CredentialsError::CredentialsNotLoaded(_) => FetchError::NoCredentials {
            identity: label,
            looked: None,
        },
        // The default chain ends at the instance metadata service: its failure means no
        // credentials anywhere, which is what the user needs to hear.
        _ if from_default_chain && lower.contains("imds") => FetchError::NoCredentials {
            identity: label,
            looked: Some("the environment, ~/.aws, SSO, container and instance metadata".into()),
        },
        CredentialsError::ProviderTimedOut(_) => FetchError::CredentialsTimedOut {
            identity: label,
            after_ms: budget.as_millis() as u64,
        },
        CredentialsError::InvalidConfiguration(_) => FetchError::InvalidConfig {
            identity: label,
            detail,
        },
        _ if identity.role_arn.is_some() => FetchError::AssumeRole {
            role: identity.role_arn.clone().unwrap_or_default(),
            identity: label,
            detail,
            web_identity: false,
        },
        _ => FetchError::Credentials {
            identity: label,
            detail,
        },
    }
}
