//! Where the request goes: the Step Functions endpoint rule set (spec §2.7), or a custom
//! endpoint from the options or the environment, as the AWS SDKs resolve it.

use crate::partition::Partition;
use crate::types::FieldError;

/// Variables that name a custom endpoint, most specific first.
pub const ENDPOINT_VARIABLES: [&str; 2] = ["AWS_ENDPOINT_URL_SFN", "AWS_ENDPOINT_URL"];

/// `true` (in any case, as the AWS SDKs read it) turns off [`ENDPOINT_VARIABLES`].
pub const IGNORE_VARIABLE: &str = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";

/// A resolved endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https` or `http` (the latter only for custom endpoints).
    pub scheme: &'static str,
    /// Host and optional port, as it goes in the URL and the signed `host` header.
    pub authority: String,
}

impl Endpoint {
    /// Every request is a POST to `/`.
    pub fn url(&self) -> String {
        format!("{}://{}/", self.scheme, self.authority)
    }

    /// This endpoint with `prefix` before its host, as the service model's
    /// `endpoint.hostPrefix` asks of StartSyncExecution.
    pub fn with_host_prefix(&self, prefix: &str) -> Endpoint {
        Endpoint {
            scheme: self.scheme,
            authority: format!("{prefix}{}", self.authority),
        }
    }
}

/// StartSyncExecution's host prefix (`endpoint.hostPrefix` in the service model). The AWS
/// SDKs put it on a custom endpoint too, which no emulator on `127.0.0.1` resolves; here it
/// goes on the rule set's hosts only, and a custom endpoint is used as given.
pub const SYNC_HOST_PREFIX: &str = "sync-";

/// The rule set's answer for a region of a partition.
pub fn standard(partition: &Partition, region: &str, fips: bool, dual_stack: bool) -> Endpoint {
    let (service, suffix) = match (fips, dual_stack) {
        // GovCloud's us-gov-west-1 serves FIPS on the ordinary host...
        (true, false) if region == "us-gov-west-1" => ("states", partition.dns_suffix),
        // ...and GovCloud's dual-stack hosts are all FIPS.
        (false, true) if partition.id == "aws-us-gov" => {
            ("states-fips", partition.dual_stack_dns_suffix)
        }
        (true, true) => ("states-fips", partition.dual_stack_dns_suffix),
        (true, false) => ("states-fips", partition.dns_suffix),
        (false, true) => ("states", partition.dual_stack_dns_suffix),
        (false, false) => ("states", partition.dns_suffix),
    };
    Endpoint {
        scheme: "https",
        authority: format!("{service}.{region}.{suffix}"),
    }
}

/// Where a custom endpoint came from, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Option,
    Variable(&'static str),
}

impl Source {
    fn describe(self) -> String {
        match self {
            Source::Option => "the custom endpoint".into(),
            Source::Variable(name) => format!("the custom endpoint from {name}"),
        }
    }
}

/// Picks the custom endpoint: the option, else the first non-empty variable unless
/// [`IGNORE_VARIABLE`] is `true`. The option is explicit, so it is never ignored.
pub fn custom_from(
    option: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<(String, Source)> {
    if let Some(url) = option {
        return Some((url.to_string(), Source::Option));
    }
    if env(IGNORE_VARIABLE).is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return None;
    }
    ENDPOINT_VARIABLES.iter().find_map(|&name| {
        env(name)
            .filter(|v| !v.is_empty())
            .map(|v| (v, Source::Variable(name)))
    })
}

/// Checks a custom endpoint, refusing the combinations the rule set refuses.
pub fn custom(
    (url, source): (String, Source),
    fips: bool,
    dual_stack: bool,
) -> Result<Endpoint, Vec<FieldError>> {
    let mut errors = Vec::new();
    if fips {
        errors.push(FieldError::new(
            "use_fips",
            format!(
                "FIPS and custom endpoint are not supported together: drop use_fips or {}",
                source.describe()
            ),
        ));
    }
    if dual_stack {
        errors.push(FieldError::new(
            "use_dual_stack",
            format!("dual-stack and custom endpoint are not supported together: drop use_dual_stack or {}", source.describe()),
        ));
    }
    match parse_custom(&url) {
        Ok(endpoint) if errors.is_empty() => return Ok(endpoint),
        Ok(_) => {}
        Err(problem) => errors.push(FieldError::new(
            "endpoint_url",
            format!("{} {problem}", source.describe()),
        )),
    }
    Err(errors)
}

/// Longer than any `scheme://host:port/`, short enough to quote in a message.
pub const MAX_URL_CHARS: usize = 2048;

/// A custom endpoint is `http(s)://host[:port]` (port 1 to 65535) with at most a trailing
/// `/`. The one parser of custom endpoints: the host's outbound policy allows what this
/// accepts.
pub fn parse_custom(url: &str) -> Result<Endpoint, String> {
    // Checked first, so that a message never quotes an unbounded text.
    let count = url.chars().count();
    if count > MAX_URL_CHARS {
        return Err(format!(
            "must be at most {MAX_URL_CHARS} characters, got {count}"
        ));
    }
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("'{}' is not a URL: {e}", url.escape_debug()))?;
    let Some(scheme) = scheme_of(&uri) else {
        return Err(format!(
            "'{}' must start with https:// or http://",
            url.escape_debug()
        ));
    };
    let authority = uri
        .authority()
        .filter(|a| !a.host().is_empty())
        .ok_or_else(|| format!("'{}' has no host", url.escape_debug()))?;
    if authority.as_str().contains('@') {
        return Err("must not carry user information (user:password@)".into());
    }
    if let Some(port) = bad_port(authority) {
        return Err(format!(
            "'{}' has port '{}': a port must be a number from 1 to 65535",
            url.escape_debug(),
            port.escape_debug()
        ));
    }
    if uri.path_and_query().is_some_and(|pq| pq.as_str() != "/") {
        return Err(format!(
            "'{}' must not have a path or query: Step Functions is served at /",
            url.escape_debug()
        ));
    }
    Ok(Endpoint {
        scheme,
        authority: authority.as_str().to_string(),
    })
}

/// The port text after the host when it is not a number from 1 to 65535. The http crate
/// parses any such text and reports no port, and a request would then go to the scheme's
/// default port.
fn bad_port(authority: &http::uri::Authority) -> Option<&str> {
    let after_host = authority.as_str().strip_prefix(authority.host())?;
    let port = after_host.strip_prefix(':')?;
    // `u16`'s parser also takes a leading `+`.
    let digits = port.bytes().all(|b| b.is_ascii_digit());
    match port.parse::<u16>() {
        Ok(1..) if digits => None,
        _ => Some(port),
    }
}

fn scheme_of(uri: &http::Uri) -> Option<&'static str> {
    match uri.scheme_str()? {
        s if s.eq_ignore_ascii_case("https") => Some("https"),
        s if s.eq_ignore_ascii_case("http") => Some("http"),
        _ => None,
    }
}

/// Where a request goes, as an outbound policy compares it: scheme, lower-cased host and
/// port (defaulted by the scheme).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: &'static str,
    pub host: String,
    pub port: u16,
}

impl Origin {
    /// The origin of an absolute `http(s)` URL; `None` for anything else.
    pub fn of(uri: &http::Uri) -> Option<Self> {
        let scheme = scheme_of(uri)?;
        let authority = uri.authority()?;
        let default_port = if scheme == "https" { 443 } else { 80 };
        Some(Self {
            scheme,
            host: authority.host().to_ascii_lowercase(),
            port: authority.port_u16().unwrap_or(default_port),
        })
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

impl Endpoint {
    /// The origin of this endpoint (`None` only if it were not a URL, which no endpoint
    /// this module makes is).
    pub fn origin(&self) -> Option<Origin> {
        Origin::of(&self.url().parse().ok()?)
    }
}

/// Whether `host` is what the rule set gives for some region of a known partition, with or
/// without FIPS and dual-stack, with or without StartSyncExecution's host prefix.
pub fn is_standard_host(host: &str) -> bool {
    standard_region_of(host).is_some()
}

/// The region whose standard endpoint (with or without FIPS, dual-stack and
/// StartSyncExecution's host prefix) `host` is, if it is one.
pub fn standard_region_of(host: &str) -> Option<&str> {
    let host = host.strip_prefix(SYNC_HOST_PREFIX).unwrap_or(host);
    let rest = host
        .strip_prefix("states.")
        .or_else(|| host.strip_prefix("states-fips."))?;
    let region = rest.split('.').next().unwrap_or_default();
    let partition = crate::partition::of_region(region)?;
    [(false, false), (true, false), (false, true), (true, true)]
        .into_iter()
        .any(|(fips, dual)| standard(partition, region, fips, dual).authority == host)
        .then_some(region)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition;

    /// Spec §2.7: botocore's EndpointProvider, every partition × FIPS × dual-stack
    /// (`tests/fixtures/endpoints.txt`).
    #[test]
    fn rule_set_table_for_every_partition() {
        let mut checked = 0;
        for row in sfn_test_kit::fixtures::endpoints() {
            let region = row.region.as_str();
            let partition = partition::of_region(region).unwrap();
            for (fips, dual, expected) in row.urls {
                let got = standard(partition, region, fips, dual).url();
                assert_eq!(
                    got,
                    format!("{expected}/"),
                    "{region} fips={fips} dual={dual}"
                );
                assert!(is_standard_host(&got[8..got.len() - 1]), "{got}");
                // StartSyncExecution's host: botocore puts the model's hostPrefix on the
                // rule set's URL.
                let sync =
                    standard(partition, region, fips, dual).with_host_prefix(SYNC_HOST_PREFIX);
                let expected_sync = expected.replacen("https://", "https://sync-", 1);
                assert_eq!(sync.url(), format!("{expected_sync}/"));
                assert!(is_standard_host(&sync.authority), "{expected_sync}");
                checked += 1;
            }
        }
        assert_eq!(checked, 52);
    }

    #[test]
    fn only_the_sync_prefix_is_taken_on_standard_hosts() {
        assert!(is_standard_host("sync-states.us-east-1.amazonaws.com"));
        assert!(is_standard_host("sync-states-fips.us-gov-east-1.api.aws"));
        for host in [
            "sync-sync-states.us-east-1.amazonaws.com",
            "async-states.us-east-1.amazonaws.com",
            "sync.states.us-east-1.amazonaws.com",
            "sync-states.us-east-1.example.com",
            "sync-127.0.0.1",
        ] {
            assert!(!is_standard_host(host), "{host}");
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn custom_endpoint_precedence() {
        let env = |name: &str| match name {
            "AWS_ENDPOINT_URL_SFN" => Some("http://sfn:1".to_string()),
            "AWS_ENDPOINT_URL" => Some("http://all:2".to_string()),
            _ => None,
        };
        assert_eq!(
            custom_from(Some("http://opt:3"), &env),
            Some(("http://opt:3".into(), Source::Option))
        );
        assert_eq!(
            custom_from(None, &env),
            Some((
                "http://sfn:1".into(),
                Source::Variable("AWS_ENDPOINT_URL_SFN")
            ))
        );
        let general_only = |name: &str| match name {
            "AWS_ENDPOINT_URL_SFN" => Some(String::new()),
            "AWS_ENDPOINT_URL" => Some("http://all:2".to_string()),
            _ => None,
        };
        assert_eq!(
            custom_from(None, &general_only),
            Some(("http://all:2".into(), Source::Variable("AWS_ENDPOINT_URL")))
        );
        assert_eq!(custom_from(None, &no_env), None);
    }

    #[test]
    fn ignoring_configured_endpoints_drops_the_variables_not_the_option() {
        let with_ignore = |value: &'static str| {
            move |name: &str| match name {
                IGNORE_VARIABLE => Some(value.to_string()),
                "AWS_ENDPOINT_URL_SFN" => Some("http://sfn:1".to_string()),
                "AWS_ENDPOINT_URL" => Some("http://all:2".to_string()),
                _ => None,
            }
        };
        for value in ["true", "TRUE", "True"] {
            assert_eq!(custom_from(None, &with_ignore(value)), None, "{value}");
            assert_eq!(
                custom_from(Some("http://opt:3"), &with_ignore(value)),
                Some(("http://opt:3".into(), Source::Option))
            );
        }
        // Anything else leaves them on, as the SDKs do with a value they cannot read.
        for value in ["false", "", "1", "yes", " true"] {
            assert_eq!(
                custom_from(None, &with_ignore(value)),
                Some((
                    "http://sfn:1".into(),
                    Source::Variable("AWS_ENDPOINT_URL_SFN")
                )),
                "{value:?}"
            );
        }
        let only_general = |name: &str| match name {
            IGNORE_VARIABLE => Some("true".to_string()),
            "AWS_ENDPOINT_URL" => Some("http://all:2".to_string()),
            _ => None,
        };
        assert_eq!(custom_from(None, &only_general), None);
    }

    #[test]
    fn a_long_custom_endpoint_is_refused_without_being_quoted() {
        let long = format!("http://{}", "a".repeat(1_000_000));
        assert_eq!(
            parse_custom(&long).err(),
            Some("must be at most 2048 characters, got 1000007".into())
        );
        let longest = format!("http://{}", "a".repeat(MAX_URL_CHARS - 7));
        assert!(parse_custom(&longest).is_ok());
    }

    #[test]
    fn custom_endpoints_keep_scheme_host_and_port() {
        for (given, url) in [
            ("http://127.0.0.1:4566", "http://127.0.0.1:4566/"),
            ("http://localhost:8083/", "http://localhost:8083/"),
            (
                "https://vpce-1.states.us-east-1.vpce.amazonaws.com",
                "https://vpce-1.states.us-east-1.vpce.amazonaws.com/",
            ),
            ("http://[::1]:9000", "http://[::1]:9000/"),
            ("http://[::1]", "http://[::1]/"),
            ("http://127.0.0.1:65535", "http://127.0.0.1:65535/"),
            ("http://h:1", "http://h:1/"),
        ] {
            let endpoint = custom((given.to_string(), Source::Option), false, false).unwrap();
            assert_eq!(endpoint.url(), url);
        }
    }

    fn custom_errors(url: &str, source: Source, fips: bool, dual: bool) -> Vec<String> {
        custom((url.into(), source), fips, dual)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn bad_custom_endpoints_are_refused() {
        assert_eq!(
            custom_errors("ftp://h", Source::Option, false, false),
            ["endpoint_url: the custom endpoint 'ftp://h' must start with https:// or http://"]
        );
        assert_eq!(
            custom_errors("h:80", Source::Variable("AWS_ENDPOINT_URL"), false, false),
            [
                "endpoint_url: the custom endpoint from AWS_ENDPOINT_URL 'h:80' must start with https:// or http://"
            ]
        );
        assert_eq!(
            custom_errors("http://h/v1?x=1", Source::Option, false, false),
            [
                "endpoint_url: the custom endpoint 'http://h/v1?x=1' must not have a path or query: Step Functions is served at /"
            ]
        );
        assert_eq!(
            custom_errors("http://u:p@h", Source::Option, false, false),
            ["endpoint_url: the custom endpoint must not carry user information (user:password@)"]
        );
        assert_eq!(
            custom_errors("", Source::Option, false, false),
            ["endpoint_url: the custom endpoint '' is not a URL: empty string"]
        );
    }

    #[test]
    fn ports_outside_1_to_65535_are_refused() {
        for (url, port) in [
            ("http://127.0.0.1:0", "0"),
            ("http://127.0.0.1:65536", "65536"),
            ("http://127.0.0.1:99999", "99999"),
            ("http://127.0.0.1:abc", "abc"),
            ("http://127.0.0.1:", ""),
            ("http://127.0.0.1:+80", "+80"),
            ("http://[::1]:99999", "99999"),
        ] {
            assert_eq!(
                custom_errors(url, Source::Variable("AWS_ENDPOINT_URL"), false, false),
                [format!(
                    "endpoint_url: the custom endpoint from AWS_ENDPOINT_URL '{url}' has port '{port}': a port must be a number from 1 to 65535"
                )],
                "{url}"
            );
        }
    }

    #[test]
    fn fips_and_dual_stack_refuse_custom_endpoints() {
        assert_eq!(
            custom_errors(
                "http://h",
                Source::Variable("AWS_ENDPOINT_URL_SFN"),
                true,
                true
            ),
            [
                "use_fips: FIPS and custom endpoint are not supported together: drop use_fips or the custom endpoint from AWS_ENDPOINT_URL_SFN",
                "use_dual_stack: dual-stack and custom endpoint are not supported together: drop use_dual_stack or the custom endpoint from AWS_ENDPOINT_URL_SFN",
            ]
        );
    }
}
