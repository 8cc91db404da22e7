//! What an AWS user already has: the SDKs' default credential chain and the settings of the
//! shared config files and their variables, resolved by the host with `aws-config`'s own
//! loader. The component never reads a file: it gets the credentials and settings per
//! call, in `client-options`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::meta::ProviderChainError;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::ProfileFileRegionProvider;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_types::region::Region;
use aws_types::service_config::ServiceConfigKey;

use crate::Credentials;

/// Where a call's credentials come from when it does not bring its own.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum CredentialSource {
    /// Nowhere in the host: the component reads `AWS_ACCESS_KEY_ID` and the rest from the
    /// environment it is given.
    #[default]
    None,
    /// These, for every call.
    Fixed(Credentials),
    /// A credentials provider (the AWS SDKs' default chain, say), resolved by the host,
    /// kept and refreshed before the credentials expire.
    Chain(Chain),
}

/// Settings of the shared config and its variables that a call takes unless it sets its own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// `AWS_ENDPOINT_URL_SFN`, `AWS_ENDPOINT_URL`, the profile's `services` section
    /// (`sfn`), the profile's `endpoint_url`, in that order (the SDKs' order: variables
    /// before files); none if `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` or the profile's
    /// `ignore_configured_endpoint_urls` is true.
    pub endpoint_url: Option<String>,
    /// The profile's `max_attempts` (`AWS_MAX_ATTEMPTS` is read by the component itself).
    pub max_attempts: Option<u32>,
    /// `AWS_USE_FIPS_ENDPOINT` or the profile's `use_fips_endpoint`.
    pub use_fips: bool,
    /// `AWS_USE_DUALSTACK_ENDPOINT` or the profile's `use_dualstack_endpoint`.
    pub use_dual_stack: bool,
    /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` or the profile's
    /// `ignore_configured_endpoint_urls`: no endpoint from the variables or the files.
    pub ignore_configured_endpoints: bool,
}

/// A setting of the shared configuration that the SDKs would refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AwsConfigError {
    /// `max_attempts` is not a whole number of at least 1.
    MaxAttempts(String),
}

impl fmt::Display for AwsConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AwsConfigError::MaxAttempts(text) => write!(
                f,
                "the shared config's max_attempts is {text:?}: it must be a whole number, at least 1"
            ),
        }
    }
}

impl std::error::Error for AwsConfigError {}

/// Why no credentials could be had: every source the chain tried and what each said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoCredentials(String);

impl fmt::Display for NoCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NoCredentials {}

/// The region of STS and SSO calls when nothing names one: STS's global endpoint's.
const FALLBACK_REGION: &str = "us-east-1";

/// Credentials refreshed this long before they expire.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// The service id that names Step Functions in the shared config (`AWS_ENDPOINT_URL_SFN`,
/// a `services` section's `sfn`).
const SERVICE_ID: &str = "SFN";

/// A credentials provider and the credentials it last gave.
#[derive(Clone)]
pub struct Chain {
    profile: Option<String>,
    provider: SharedCredentialsProvider,
    cached: Arc<tokio::sync::Mutex<Option<aws_credential_types::Credentials>>>,
}

impl fmt::Debug for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain")
            .field("profile", &self.profile)
            .field("provider", &self.provider)
            .finish()
    }
}

/// The default chain and settings of `profile` (else `AWS_PROFILE`, else `default`), as
/// aws-config's loader resolves them. `region` is the one to use for STS and SSO when
/// neither the environment nor the profile names one (the state machine's, for
/// `sfn-start`): the instance metadata service is never asked for it.
pub async fn load(
    profile: Option<&str>,
    region: Option<&str>,
) -> Result<(Chain, Settings), AwsConfigError> {
    let mut profile_region = ProfileFileRegionProvider::builder();
    if let Some(name) = profile {
        profile_region = profile_region.profile_name(name);
    }
    let region = RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
        .or_else(profile_region.build())
        .or_else(Region::new(region.unwrap_or(FALLBACK_REGION).to_string()));
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .region(region)
        // The component retries; this spares the loader's own retry settings, which it
        // would refuse with a panic if `max_attempts` were not a number.
        .retry_config(RetryConfig::standard());
    if let Some(name) = profile {
        loader = loader.profile_name(name);
    }
    let sdk = loader.load().await;
    let settings = settings(&sdk)?;
    let provider = sdk
        .credentials_provider()
        .expect("the loader always makes the default chain");
    let chain = Chain::new(profile, provider);
    Ok((chain, settings))
}

/// The settings for Step Functions that `sdk` holds.
fn settings(sdk: &SdkConfig) -> Result<Settings, AwsConfigError> {
    let for_sfn = |env: &str, profile: &str| {
        let key = ServiceConfigKey::builder()
            .service_id(SERVICE_ID)
            .env(env)
            .profile(profile)
            .build()
            .ok()?;
        sdk.service_config()?.load_config(key)
    };
    let endpoint_url = for_sfn("AWS_ENDPOINT_URL", "endpoint_url")
        .or_else(|| sdk.endpoint_url().map(str::to_string));
    // The variable is the component's to read (and to refuse with a field error).
    let max_attempts = match std::env::var_os("AWS_MAX_ATTEMPTS") {
        Some(_) => None,
        None => for_sfn("AWS_MAX_ATTEMPTS", "max_attempts")
            .map(|text| max_attempts(&text))
            .transpose()?,
    };
    let ignore = for_sfn(
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "ignore_configured_endpoint_urls",
    );
    Ok(Settings {
        endpoint_url,
        max_attempts,
        use_fips: sdk.use_fips().unwrap_or(false),
        use_dual_stack: sdk.use_dual_stack().unwrap_or(false),
        ignore_configured_endpoints: ignore.is_some_and(|v| v.eq_ignore_ascii_case("true")),
    })
}

/// `max_attempts`, checked as the SDKs check it.
fn max_attempts(text: &str) -> Result<u32, AwsConfigError> {
    match text.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(AwsConfigError::MaxAttempts(text.to_string())),
    }
}

/// rustls on ring with the system's roots, made on first use: loading the roots reads every
/// certificate file of the system, and most runs (credentials in the environment or the
/// files) make no HTTP request of their own.
fn https_client() -> SharedHttpClient {
    SharedHttpClient::new(LazyHttps::default())
}

#[derive(Debug, Default)]
struct LazyHttps(std::sync::OnceLock<SharedHttpClient>);

impl HttpClient for LazyHttps {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let client = self.0.get_or_init(|| {
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https()
        });
        client.http_connector(settings, components)
    }
}

impl Chain {
    fn new(profile: Option<&str>, provider: SharedCredentialsProvider) -> Chain {
        Chain {
            profile: profile.map(str::to_string),
            provider,
            cached: Arc::default(),
        }
    }

    /// A chain of one provider, for a host that resolves credentials its own way (an
    /// `SdkConfig`'s provider, say): it is cached and refreshed as the default chain is.
    pub fn from_provider(provider: impl ProvideCredentials + 'static) -> Chain {
        Chain::new(None, SharedCredentialsProvider::new(provider))
    }

    /// The credentials last resolved while they are fresh, else resolved anew. Calls in
    /// flight at once wait for one resolution.
    pub async fn credentials(&self) -> Result<Credentials, NoCredentials> {
        let mut cached = self.cached.lock().await;
        if let Some(fresh) = cached.as_ref().filter(|c| is_fresh(c, SystemTime::now())) {
            return Ok(convert(fresh));
        }
        let resolved = self
            .provider
            .provide_credentials()
            .await
            .map_err(|e| self.failed(&e))?;
        let credentials = convert(&resolved);
        *cached = Some(resolved);
        Ok(credentials)
    }

    /// The chain's error on one line: each source it tried and what it said.
    fn failed(&self, error: &CredentialsError) -> NoCredentials {
        let why = tried(error).unwrap_or_else(|| causes(error));
        let profile = self.profile.as_deref().unwrap_or("default");
        let hint = if why.contains("sso") || why.contains("SSO") {
            format!("; run `aws sso login --profile {profile}`")
        } else {
            String::new()
        };
        NoCredentials(format!("{why}{hint}"))
    }
}

/// `none found; tried Environment (why not), Profile (why not), ...`, when `error` is the
/// default chain's own "no credentials anywhere".
fn tried(error: &CredentialsError) -> Option<String> {
    let mut cause = std::error::Error::source(error);
    while let Some(current) = cause {
        if let Some(chain) = current.downcast_ref::<ProviderChainError<CredentialsError>>() {
            let attempts: Vec<String> = chain
                .attempts()
                .iter()
                .map(|attempt| format!("{} ({})", attempt.name(), reason(attempt.error())))
                .collect();
            return Some(format!("none found; tried {}", attempts.join(", ")));
        }
        cause = current.source();
    }
    None
}

/// What a source said, without the wrapper every "not loaded" error carries.
fn reason(error: &CredentialsError) -> String {
    let said = causes(error);
    let wrapper = "the credential provider was not enabled";
    let said = said.strip_prefix(wrapper).unwrap_or(&said);
    let said = said.strip_prefix(": ").unwrap_or(said);
    if said.is_empty() {
        "nothing configured".into()
    } else {
        said.to_string()
    }
}

/// An error and its causes on one line, each said once (aws-config wraps one error in
/// several layers that repeat it, and indents details on new lines).
fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut said: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(current) = next {
        let text = current
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !text.is_empty() && !said.iter().any(|s| s.contains(&text)) {
            said.push(text);
        }
        next = current.source();
    }
    said.join(": ")
}

/// Fresh: no expiry, or one more than [`REFRESH_BEFORE_EXPIRY`] away.
fn is_fresh(credentials: &aws_credential_types::Credentials, now: SystemTime) -> bool {
    credentials
        .expiry()
        .is_none_or(|expiry| expiry > now + REFRESH_BEFORE_EXPIRY)
}

fn convert(credentials: &aws_credential_types::Credentials) -> Credentials {
    Credentials {
        access_key_id: credentials.access_key_id().to_string(),
        secret_access_key: credentials.secret_access_key().to_string(),
        session_token: credentials.session_token().map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::UNIX_EPOCH;

    /// Hands out credentials that expire `lifetime` from now, counting the calls.
    #[derive(Debug)]
    struct Counting {
        calls: Arc<AtomicU32>,
        lifetime: Duration,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            let expiry = SystemTime::now() + self.lifetime;
            let credentials = aws_credential_types::Credentials::new(
                format!("AKID{n}"),
                "s",
                None,
                Some(expiry),
                "test",
            );
            aws_credential_types::provider::future::ProvideCredentials::ready(Ok(credentials))
        }
    }

    /// The shared config's answers for Step Functions, as aws-config's loader gives them.
    #[derive(Debug)]
    struct ForSfn(&'static [(&'static str, &'static str)]);

    impl aws_types::service_config::LoadServiceConfig for ForSfn {
        fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
            assert_eq!(key.service_id(), "SFN");
            let found = self.0.iter().find(|(profile, _)| *profile == key.profile());
            found.map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn settings_take_the_step_functions_endpoint_before_the_general_one() {
        let sdk = |service: &'static [(&'static str, &'static str)]| {
            SdkConfig::builder()
                .endpoint_url("http://every-service")
                .use_fips(true)
                .service_config(ForSfn(service))
                .build()
        };
        let sfn = settings(&sdk(&[
            ("endpoint_url", "http://sfn"),
            ("max_attempts", "4"),
        ]));
        let expected = Settings {
            endpoint_url: Some("http://sfn".into()),
            max_attempts: Some(4),
            use_fips: true,
            use_dual_stack: false,
            ignore_configured_endpoints: false,
        };
        assert_eq!(sfn, Ok(expected));
        let general = settings(&sdk(&[])).unwrap();
        assert_eq!(
            general.endpoint_url.as_deref(),
            Some("http://every-service")
        );
        assert_eq!(general.max_attempts, None);
        assert_eq!(
            settings(&sdk(&[("max_attempts", "many")])),
            Err(AwsConfigError::MaxAttempts("many".into()))
        );
    }

    #[tokio::test]
    async fn credentials_are_kept_until_five_minutes_before_they_expire() {
        for (lifetime, keys) in [
            (Duration::from_secs(3600), ["AKID0", "AKID0", "AKID0"]),
            (Duration::from_secs(299), ["AKID0", "AKID1", "AKID2"]),
        ] {
            let calls = Arc::new(AtomicU32::new(0));
            let chain = Chain::from_provider(Counting {
                calls: Arc::clone(&calls),
                lifetime,
            });
            for key in keys {
                assert_eq!(chain.credentials().await.unwrap().access_key_id, key);
            }
        }
    }

    #[tokio::test]
    async fn a_failing_source_is_named() {
        #[derive(Debug)]
        struct Failing(String);
        impl ProvideCredentials for Failing {
            fn provide_credentials<'a>(
                &'a self,
            ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
            where
                Self: 'a,
            {
                let error = aws_credential_types::provider::error::CredentialsError::provider_error(
                    self.0.clone(),
                );
                aws_credential_types::provider::future::ProvideCredentials::ready(Err(error))
            }
        }
        let chain = Chain::from_provider(Failing("the vault is sealed".into()));
        assert_eq!(
            chain.credentials().await,
            Err(NoCredentials(
                "an error occurred while loading credentials: the vault is sealed".into()
            ))
        );
    }

    #[test]
    fn credentials_are_refreshed_five_minutes_before_they_expire() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let expiring = |secs| {
            aws_credential_types::Credentials::new(
                "a",
                "s",
                None,
                Some(now + Duration::from_secs(secs)),
                "t",
            )
        };
        assert!(is_fresh(&expiring(301), now));
        assert!(!is_fresh(&expiring(300), now));
        assert!(!is_fresh(&expiring(0), now));
        let lasting = aws_credential_types::Credentials::new("a", "s", None, None, "t");
        assert!(is_fresh(&lasting, now));
    }
}
