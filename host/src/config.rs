//! How a runtime runs the component: what the component sees, what it may reach, how long
//! and how much it may take, where its compiled code is kept, and where a call's
//! credentials and settings come from.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::outbound::Timeouts;
use crate::policy::Policy;
use crate::shared_config::{self, CredentialSource, Settings};
use crate::{ConfigError, FORWARDED_VARIABLES, HostError};

/// The variables that name a custom endpoint for the component.
const ENDPOINT_VARIABLES: [&str; 2] = ["AWS_ENDPOINT_URL_SFN", "AWS_ENDPOINT_URL"];

/// How the host runs the component. `Debug` shows the names of the variables, never their
/// values (they hold the secret key).
#[derive(Clone)]
#[non_exhaustive]
pub struct HostConfig {
    /// The environment the component sees (credentials, endpoint variables). Nothing else of
    /// the host's environment is visible to it.
    pub env: Vec<(String, String)>,
    /// The one custom endpoint the outbound policy allows besides Step Functions.
    pub allowed_endpoint: Option<String>,
    /// A fixed wall clock for the component (reproducible signatures); `None` is real time.
    pub wall_clock: Option<SystemTime>,
    /// Upper bound on one call, network, retries and backoff included. The component is
    /// given it (or the call's own `timeout-ms`, if shorter) and ends the call with an error
    /// that names it; should the component not return, the host stops it a moment later.
    pub timeout: Duration,
    /// Upper bounds on connecting and on waiting for response bytes (see [`Timeouts`]).
    pub io_timeouts: Timeouts,
    /// Upper bound on the component's linear memory.
    pub memory_limit: usize,
    /// Where instances get their memory. Read when the component is loaded; a runtime made
    /// by [`crate::Runtime::with_config`] keeps the loaded one's.
    pub instances: Instances,
    /// Whether an instance whose call ended cleanly serves this runtime's next call (the
    /// default), instead of every call getting a fresh one. A kept instance has run only
    /// this runtime's calls, with its environment and policy, and holds no host resource
    /// between them; the component keeps no state between calls. Its linear memory is not
    /// cleared, though: a host that must not let one call's credentials lie in memory that
    /// the next call runs in (even freed, and unread) sets this to `false`. An instance that
    /// traps, is stopped, or grew its memory past [`KEPT_MEMORY`] is never kept.
    pub reuse_instances: bool,
    /// Where compiled code is kept between processes: `None` (the default) compiles the
    /// component at every load. Read when the component is loaded. See [`crate::cache`]
    /// for when an entry is trusted.
    pub cache_dir: Option<PathBuf>,
    /// Where a call's credentials come from when it brings none.
    pub credentials: CredentialSource,
    /// Endpoint, attempts, FIPS and dual-stack for calls that do not set their own.
    pub settings: Settings,
}

/// How each call's instance gets its memory and tables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Instances {
    /// From slots reserved once and reused, their memory reset in place: the fastest
    /// instantiation, for a runtime that makes many calls. At most [`POOLED_CALLS`] calls
    /// run at once; one more fails to instantiate until another ends.
    #[default]
    Pooled,
    /// Mapped for each call and unmapped after it: nothing reserved up front, for a process
    /// that makes one call (the `sfn-start` CLI).
    OnDemand,
}

/// Calls in flight at once with [`Instances::Pooled`]. Slots reserve address space, not
/// memory.
pub const POOLED_CALLS: u32 = 256;

/// Instances kept between calls at most, over all the runtimes of one loaded component
/// (see [`HostConfig::reuse_instances`]). With [`Instances::Pooled`] they have slots of
/// their own, beyond [`POOLED_CALLS`].
pub const KEPT_INSTANCES: u32 = 32;

/// The largest linear memory an instance may have grown to and still be kept: a small
/// call's fits; one with an input near the 262,144-byte limit does not, and a fresh
/// instance costs such a call little.
pub const KEPT_MEMORY: usize = 2 << 20;

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            env: Vec::new(),
            allowed_endpoint: None,
            wall_clock: None,
            timeout: Duration::from_secs(120),
            io_timeouts: Timeouts::default(),
            memory_limit: 64 << 20,
            instances: Instances::default(),
            reuse_instances: true,
            cache_dir: None,
            credentials: CredentialSource::default(),
            settings: Settings::default(),
        }
    }
}

impl fmt::Debug for HostConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("HostConfig")
            .field("env", &names)
            .field("allowed_endpoint", &self.allowed_endpoint)
            .field("wall_clock", &self.wall_clock)
            .field("timeout", &self.timeout)
            .field("io_timeouts", &self.io_timeouts)
            .field("memory_limit", &self.memory_limit)
            .field("instances", &self.instances)
            .field("reuse_instances", &self.reuse_instances)
            .field("cache_dir", &self.cache_dir)
            .field("credentials", &self.credentials)
            .field("settings", &self.settings)
            .finish()
    }
}

impl HostConfig {
    /// Forwards [`FORWARDED_VARIABLES`] from this process and allows the endpoint they name.
    pub fn from_process_env() -> Self {
        let env: Vec<(String, String)> = FORWARDED_VARIABLES
            .iter()
            .filter_map(|&k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let named = sfn_core::endpoint::custom_from(None, &lookup);
        let mut config = Self {
            env,
            ..Self::default()
        };
        if let Some((url, _)) = named {
            config.allow_endpoint(&url);
        }
        config
    }

    /// What the AWS SDKs and CLI would use: [`HostConfig::from_process_env`], plus credentials
    /// from the default chain and the settings of `profile` (else `AWS_PROFILE`, else
    /// `default`) and their variables; an endpoint from them is allowed out. `region` serves
    /// STS and SSO when neither the environment nor the profile names one.
    pub async fn from_aws_config(
        profile: Option<&str>,
        region: Option<&str>,
    ) -> Result<Self, HostError> {
        let (chain, settings) = shared_config::load(profile, region)
            .await
            .map_err(ConfigError::Aws)?;
        let mut config = Self::from_process_env();
        if settings.ignore_configured_endpoints {
            // The profile may say so where the variables do not: the component, which reads
            // the endpoint variables itself, must not see them either.
            config
                .env
                .retain(|(name, _)| !ENDPOINT_VARIABLES.contains(&name.as_str()));
            config.allowed_endpoint = None;
        }
        if let Some(url) = &settings.endpoint_url {
            config.allow_endpoint(url);
        }
        config.credentials = CredentialSource::Chain(chain);
        config.settings = settings;
        Ok(config)
    }

    /// Allows `url` through the outbound policy if it is an `http(s)` URL with a host. Any
    /// other value allows nothing: the component then refuses it as an `endpoint_url` field
    /// error before any I/O, which says more than a host error would.
    pub fn allow_endpoint(&mut self, url: &str) {
        if Policy::new(Some(url)).is_ok() {
            self.allowed_endpoint = Some(url.to_string());
        }
    }
}
