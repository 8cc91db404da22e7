//! What an AWS user already has: the SDKs' default credential chain and the settings of the
//! shared config files and their variables, resolved by the host with `aws-config`. The
//! component never reads a file: it gets the credentials and settings per call, in
//! `client-options`.
//!
//! The chain is the SDKs' (environment, the profile with its roles, SSO, processes, web
//! identity, containers, IMDSv2), tried in their order, but each source's failure is kept so
//! that the error names what was tried and why each said no.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use aws_config::ecs::EcsCredentialsProvider;
use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::imds::credentials::ImdsCredentialsProvider;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::web_identity_token::WebIdentityTokenCredentialsProvider;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_runtime::env_config::EnvConfigValue;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_types::region::Region;

use crate::Credentials;

/// Where a call's credentials come from when it does not bring its own.
#[derive(Clone, Debug, Default)]
pub enum CredentialSource {
    /// Nowhere in the host: the component reads `AWS_ACCESS_KEY_ID` and the rest from the
    /// environment it is given.
    #[default]
    None,
    /// These, for every call.
    Fixed(Credentials),
    /// The AWS SDKs' default chain, resolved by the host, kept and refreshed before they
    /// expire.
    Chain(Chain),
}

/// Settings of the shared config and its variables that a call takes unless it sets its own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
}

/// The region of STS and SSO calls when nothing names one: STS's global endpoint's.
const FALLBACK_REGION: &str = "us-east-1";

/// Credentials refreshed this long before they expire.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// The default chain's sources, in the SDKs' order, and the credentials last resolved.
#[derive(Clone)]
pub struct Chain {
    profile: Option<String>,
    sources: Arc<[Source]>,
    cached: Arc<tokio::sync::Mutex<Option<aws_credential_types::Credentials>>>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.sources.iter().map(|source| source.name).collect();
        f.debug_struct("Chain")
            .field("profile", &self.profile)
            .field("sources", &names)
            .finish()
    }
}

/// The chain and settings of `profile` (else `AWS_PROFILE`, else `default`). `region` is the
/// one to use for STS and SSO when neither the environment nor the profile names one (the
/// state machine's, for `sfn-start`): the instance metadata service is never asked for it.
pub async fn load(
    profile: Option<&str>,
    region: Option<&str>,
) -> Result<(Chain, Settings), String> {
    let profiles = profile_set(profile).await?;
    // Always a region: without one, aws-config would ask the instance metadata service.
    let region = region_of(&profiles, region).unwrap_or_else(|| Region::new(FALLBACK_REGION));
    let conf = ProviderConfig::without_region()
        .with_http_client(https_client())
        .with_region(Some(region));
    let chain = Chain::new(profile, &conf);
    let settings = settings(&profiles, &aws_types::os_shim_internal::Env::real())?;
    Ok((chain, settings))
}

/// The settings, resolved as aws-config resolves them for a client, from the files already
/// read: each variable before its profile key, an endpoint for Step Functions (its service
/// id is `SFN`) before one for every service, none at all if configured endpoints are to be
/// ignored, and a flag that is not `true` or `false` ignored with a warning.
fn settings(
    profiles: &aws_config::profile::ProfileSet,
    env: &aws_types::os_shim_internal::Env,
) -> Result<Settings, String> {
    let flag = |variable: &str, key: &str| {
        let value = EnvConfigValue::new().env(variable).profile(key);
        match value.validate(env, Some(profiles), |v| {
            v.to_ascii_lowercase().parse::<bool>()
        }) {
            Ok(set) => set.unwrap_or(false),
            Err(error) => {
                tracing::warn!("ignoring {variable} / {key}: {error}");
                false
            }
        }
    };
    let ignore_endpoints = flag(
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "ignore_configured_endpoint_urls",
    );
    let endpoint_url = EnvConfigValue::new()
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .service_id("SFN")
        .load(env, Some(profiles))
        .filter(|_| !ignore_endpoints)
        .map(|(url, _)| url.into_owned());
    Ok(Settings {
        endpoint_url,
        max_attempts: max_attempts(profiles)?,
        use_fips: flag("AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint"),
        use_dual_stack: flag("AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint"),
    })
}

/// The shared config and credentials files, parsed, with the selected profile checked: a
/// profile asked for by name must exist.
async fn profile_set(profile: Option<&str>) -> Result<aws_config::profile::ProfileSet, String> {
    use aws_types::os_shim_internal::{Env, Fs};
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    let name = profile.map(|p| std::borrow::Cow::Owned(p.to_string()));
    let set = aws_config::profile::load(&Fs::real(), &Env::real(), &files, name)
        .await
        .map_err(|e| causes(&e))?;
    let named = profile
        .map(str::to_string)
        .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()));
    if let Some(name) = named
        && set.get_profile(&name).is_none()
    {
        return Err(format!(
            "the profile '{name}' is not in the shared config or credentials file ({})",
            files_read()
        ));
    }
    Ok(set)
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

/// Where the shared files are read from, as the SDKs find them.
fn files_read() -> String {
    let config = std::env::var("AWS_CONFIG_FILE").unwrap_or_else(|_| "~/.aws/config".into());
    let credentials = std::env::var("AWS_SHARED_CREDENTIALS_FILE")
        .unwrap_or_else(|_| "~/.aws/credentials".into());
    format!("{config}, {credentials}")
}

/// `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else `fallback`.
fn region_of(profiles: &aws_config::profile::ProfileSet, fallback: Option<&str>) -> Option<Region> {
    let variable = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
    let profile = profiles
        .get_profile(profiles.selected_profile())
        .and_then(|p| p.get("region"))
        .map(str::to_string);
    variable
        .or(profile)
        .or_else(|| fallback.map(str::to_string))
        .map(Region::new)
}

/// The profile's `max_attempts`, checked as the SDKs check it.
fn max_attempts(profiles: &aws_config::profile::ProfileSet) -> Result<Option<u32>, String> {
    let selected = profiles.selected_profile();
    let Some(text) = profiles
        .get_profile(selected)
        .and_then(|p| p.get("max_attempts"))
    else {
        return Ok(None);
    };
    match text.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(Some(n)),
        _ => Err(format!(
            "max_attempts in profile '{selected}' is {text:?}: it must be a whole number, at least 1"
        )),
    }
}

/// rustls on ring with the system's roots, made on first use: loading the roots reads every
/// certificate file of the system (about 6 ms, double a cold `sfn-start`), and most runs
/// (credentials in the environment or the files) make no HTTP request of their own.
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

/// One source of the chain, made when the chain first reaches it: with credentials in the
/// environment, the first source answers, and the others (an STS client among them) are
/// never built. Building them all, and dropping them, was 7–8% of a cold `sfn-start`.
struct Source {
    name: &'static str,
    make: Box<dyn Fn() -> SharedCredentialsProvider + Send + Sync>,
    made: OnceLock<SharedCredentialsProvider>,
}

impl Source {
    fn new(
        name: &'static str,
        make: impl Fn() -> SharedCredentialsProvider + Send + Sync + 'static,
    ) -> Self {
        Self {
            name,
            make: Box::new(make),
            made: OnceLock::new(),
        }
    }

    fn provider(&self) -> &SharedCredentialsProvider {
        self.made.get_or_init(&self.make)
    }
}

impl Chain {
    fn new(profile: Option<&str>, conf: &ProviderConfig) -> Chain {
        type Make = fn(&ProviderConfig, Option<&str>) -> SharedCredentialsProvider;
        let lazily = |make: Make| {
            let (conf, profile) = (conf.clone(), profile.map(str::to_string));
            move || make(&conf, profile.as_deref())
        };
        let sources = vec![
            Source::new(
                "environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
                lazily(|_, _| {
                    SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new())
                }),
            ),
            Source::new(
                "the shared config and credentials files",
                lazily(|conf, profile| {
                    let mut source = ProfileFileCredentialsProvider::builder().configure(conf);
                    if let Some(name) = profile {
                        source = source.profile_name(name);
                    }
                    SharedCredentialsProvider::new(source.build())
                }),
            ),
            Source::new(
                "web identity (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN)",
                lazily(|conf, _| {
                    let source = WebIdentityTokenCredentialsProvider::builder().configure(conf);
                    SharedCredentialsProvider::new(source.build())
                }),
            ),
            Source::new(
                "container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI)",
                lazily(|conf, _| {
                    let source = EcsCredentialsProvider::builder().configure(conf);
                    SharedCredentialsProvider::new(source.build())
                }),
            ),
            Source::new(
                "the instance metadata service (IMDSv2)",
                lazily(|conf, _| {
                    let source = ImdsCredentialsProvider::builder().configure(conf);
                    SharedCredentialsProvider::new(source.build())
                }),
            ),
        ];
        Chain {
            profile: profile.map(str::to_string),
            sources: sources.into(),
            cached: Arc::default(),
        }
    }

    /// A chain of one provider, for a host that resolves credentials its own way (an
    /// `SdkConfig`'s provider, say): it is cached and refreshed as the default chain is.
    pub fn from_provider(name: &'static str, provider: impl ProvideCredentials + 'static) -> Chain {
        let shared = SharedCredentialsProvider::new(provider);
        Chain {
            profile: None,
            sources: vec![Source::new(name, move || shared.clone())].into(),
            cached: Arc::default(),
        }
    }

    /// The credentials last resolved while they are fresh, else resolved anew. Calls in
    /// flight at once wait for one resolution.
    pub async fn credentials(&self) -> Result<Credentials, String> {
        let mut cached = self.cached.lock().await;
        if let Some(fresh) = cached.as_ref().filter(|c| is_fresh(c, SystemTime::now())) {
            return Ok(convert(fresh));
        }
        let resolved = self.resolve().await?;
        let credentials = convert(&resolved);
        *cached = Some(resolved);
        Ok(credentials)
    }

    /// The first source that has credentials; a source that is configured but fails ends
    /// the search, as in the SDKs, and is named.
    async fn resolve(&self) -> Result<aws_credential_types::Credentials, String> {
        let mut tried = Vec::new();
        for source in self.sources.iter() {
            match source.provider().provide_credentials().await {
                Ok(credentials) => return Ok(credentials),
                Err(CredentialsError::CredentialsNotLoaded(_)) => tried.push(source.name),
                Err(error) => return Err(self.failed(source.name, &error)),
            }
        }
        Err(format!("none found; tried {}", tried.join(", ")))
    }

    fn failed(&self, source: &str, error: &CredentialsError) -> String {
        let why = causes(error);
        let profile = self.profile.as_deref().unwrap_or("default");
        let hint = if why.contains("sso") || why.contains("SSO") {
            format!("; run `aws sso login --profile {profile}`")
        } else {
            String::new()
        };
        format!("{source}: {why}{hint}")
    }
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

    /// Environment variables, as names and values.
    type Vars<'a> = &'a [(&'a str, &'a str)];

    /// The settings of `config` (the shared config file) with the variables `env`.
    async fn settings_of(config: &str, env: Vars<'_>) -> Settings {
        use aws_types::os_shim_internal::{Env, Fs};
        let files = aws_runtime::env_config::file::EnvConfigFiles::default();
        let fs = Fs::from_slice(&[("/home/.aws/config", config)]);
        let env = Env::from_slice(&[[("HOME", "/home")].as_slice(), env].concat());
        let profiles = aws_config::profile::load(&fs, &env, &files, None)
            .await
            .unwrap();
        settings(&profiles, &env).unwrap()
    }

    #[tokio::test]
    async fn settings_come_from_the_variables_then_the_profile_as_the_sdks_take_them() {
        let config = "[default]\nendpoint_url = http://profile\nuse_fips_endpoint = TRUE\n\
            services = local\n[services local]\nsfn =\n  endpoint_url = http://profile-sfn\n";
        let endpoint = |s: Settings| s.endpoint_url;
        let cases: [(Vars, Option<&str>); 5] = [
            (&[], Some("http://profile-sfn")),
            (&[("AWS_ENDPOINT_URL", "http://env")], Some("http://env")),
            (
                &[
                    ("AWS_ENDPOINT_URL", "http://env"),
                    ("AWS_ENDPOINT_URL_SFN", "http://env-sfn"),
                ],
                Some("http://env-sfn"),
            ),
            (&[("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")], None),
            (
                &[
                    ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
                    ("AWS_ENDPOINT_URL_SFN", "http://env-sfn"),
                ],
                None,
            ),
        ];
        for (env, expected) in cases {
            let found = endpoint(settings_of(config, env).await);
            assert_eq!(found.as_deref(), expected, "{env:?}");
        }
        let default = settings_of(config, &[]).await;
        assert!(default.use_fips && !default.use_dual_stack);
        let overridden = settings_of(
            config,
            &[
                ("AWS_USE_FIPS_ENDPOINT", "false"),
                ("AWS_USE_DUALSTACK_ENDPOINT", "true"),
            ],
        )
        .await;
        assert!(!overridden.use_fips && overridden.use_dual_stack);
        // Neither true nor false: ignored, as the SDKs ignore it.
        let bad = settings_of(config, &[("AWS_USE_FIPS_ENDPOINT", "maybe")]).await;
        assert!(!bad.use_fips);
    }

    #[tokio::test]
    async fn credentials_are_kept_until_five_minutes_before_they_expire() {
        for (lifetime, keys) in [
            (Duration::from_secs(3600), ["AKID0", "AKID0", "AKID0"]),
            (Duration::from_secs(299), ["AKID0", "AKID1", "AKID2"]),
        ] {
            let calls = Arc::new(AtomicU32::new(0));
            let chain = Chain::from_provider(
                "test",
                Counting {
                    calls: Arc::clone(&calls),
                    lifetime,
                },
            );
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
        let chain = Chain::from_provider("the vault", Failing("the vault is sealed".into()));
        assert_eq!(
            chain.credentials().await,
            Err(
                "the vault: an error occurred while loading credentials: the vault is sealed"
                    .into()
            )
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
