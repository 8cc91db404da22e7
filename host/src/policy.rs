//! The outbound HTTP policy: deny by default. The component may reach only the `https`
//! Step Functions endpoints of known partitions (with StartSyncExecution's `sync-` hosts)
//! and the one custom endpoint the host was configured with, in the spirit of Spin's
//! `allowed_outbound_hosts`.

use std::fmt;

use http::Uri;
use sfn_core::endpoint::{self, Origin};

/// What the component may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// The origin of the configured custom endpoint.
    custom: Option<Origin>,
    /// Which standard endpoints: all of them, or one call's.
    standard: Standard,
}

/// The Step Functions endpoints a policy allows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Standard {
    /// Every region's of every known partition.
    #[default]
    All,
    /// One region's (FIPS, dual-stack and `sync-` forms included), or none.
    Region(Option<String>),
}

/// A custom endpoint the policy cannot allow, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidEndpoint(String);

impl fmt::Display for InvalidEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "custom endpoint {}", self.0)
    }
}

impl std::error::Error for InvalidEndpoint {}

/// A request the policy refused, naming where it was going.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The URI has no scheme or no host.
    NoOrigin(String),
    /// The origin is neither a Step Functions endpoint nor the configured one.
    NotAllowed(Origin),
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::NoOrigin(uri) => {
                write!(f, "outbound request to '{uri}' refused: no scheme or host")
            }
            Refused::NotAllowed(origin) => write!(
                f,
                "outbound request to {origin} refused: only the Step Functions endpoints and the configured endpoint are allowed"
            ),
        }
    }
}

impl std::error::Error for Refused {}

impl Policy {
    /// A policy that also allows `custom_endpoint`: a URL that the core accepts as a custom
    /// endpoint (the same parser decides for both).
    pub fn new(custom_endpoint: Option<&str>) -> Result<Self, InvalidEndpoint> {
        let custom = match custom_endpoint {
            None => None,
            Some(url) => {
                let endpoint = endpoint::parse_custom(url).map_err(InvalidEndpoint)?;
                let origin = endpoint.origin();
                Some(origin.ok_or_else(|| InvalidEndpoint(format!("'{url}' has no origin")))?)
            }
        };
        Ok(Self {
            custom,
            standard: Standard::All,
        })
    }

    /// This policy for one call about `arn` (a state machine's or an execution's): the
    /// standard endpoints of the ARN's region only, since a call sends nowhere else, and
    /// none if there is no ARN or it names no valid region. The custom endpoint stays
    /// allowed.
    pub fn for_call(&self, arn: Option<&str>) -> Policy {
        let region = arn.and_then(sfn_core::region_of_arn).map(str::to_string);
        Policy {
            custom: self.custom.clone(),
            standard: Standard::Region(region),
        }
    }

    /// `Ok` if the request may go out; otherwise the refusal, naming the host.
    pub fn check(&self, uri: &Uri) -> Result<(), Refused> {
        let Some(origin) = Origin::of(uri) else {
            return Err(Refused::NoOrigin(uri.to_string()));
        };
        let region = endpoint::standard_region_of(&origin.host);
        let standard = origin.scheme == "https"
            && origin.port == 443
            && match &self.standard {
                Standard::All => region.is_some(),
                Standard::Region(allowed) => region.is_some() && region == allowed.as_deref(),
            };
        if standard || self.custom.as_ref() == Some(&origin) {
            Ok(())
        } else {
            Err(Refused::NotAllowed(origin))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(policy: &Policy, url: &str) -> Result<(), String> {
        policy
            .check(&url.parse().unwrap())
            .map_err(|r| r.to_string())
    }

    #[test]
    fn step_functions_hosts_of_every_partition_are_allowed() {
        let policy = Policy::default();
        let table = sfn_test_kit::fixtures::endpoints();
        let urls = table
            .iter()
            .flat_map(|row| &row.urls)
            .map(|(_, _, url)| url.clone());
        let extra = [
            "https://states.cn-north-1.amazonaws.com.cn:443/",
            "https://states-fips.us-isof-south-1.api.aws.hci.ic.gov/",
        ];
        for url in urls.chain(extra.map(String::from)) {
            assert_eq!(check(&policy, &url), Ok(()), "{url}");
            // StartSyncExecution's host for the same endpoint: no test can reach AWS, so
            // this is the only guard that `--sync` is not refused there.
            let sync = url.replacen("https://", "https://sync-", 1);
            assert_eq!(check(&policy, &sync), Ok(()), "{sync}");
        }
    }

    #[test]
    fn everything_else_is_refused_by_name() {
        let policy = Policy::default();
        for (url, shown) in [
            (
                "http://states.us-east-1.amazonaws.com/",
                "http://states.us-east-1.amazonaws.com:80",
            ),
            (
                "https://states.us-east-1.amazonaws.com:8443/",
                "https://states.us-east-1.amazonaws.com:8443",
            ),
            ("https://evil.example/", "https://evil.example:443"),
            (
                "https://states.us-east-1.amazonaws.com.evil.example/",
                "https://states.us-east-1.amazonaws.com.evil.example:443",
            ),
            (
                "https://states.xx-fake-1.amazonaws.com/",
                "https://states.xx-fake-1.amazonaws.com:443",
            ),
            (
                "https://states.cn-north-1.amazonaws.com/",
                "https://states.cn-north-1.amazonaws.com:443",
            ),
            (
                "https://lambda.us-east-1.amazonaws.com/",
                "https://lambda.us-east-1.amazonaws.com:443",
            ),
            ("http://127.0.0.1:4566/", "http://127.0.0.1:4566"),
            (
                "https://sync-sync-states.us-east-1.amazonaws.com/",
                "https://sync-sync-states.us-east-1.amazonaws.com:443",
            ),
            (
                "https://sync-lambda.us-east-1.amazonaws.com/",
                "https://sync-lambda.us-east-1.amazonaws.com:443",
            ),
            (
                "http://sync-states.us-east-1.amazonaws.com/",
                "http://sync-states.us-east-1.amazonaws.com:80",
            ),
        ] {
            assert_eq!(
                check(&policy, url),
                Err(format!(
                    "outbound request to {shown} refused: only the Step Functions endpoints and the configured endpoint are allowed"
                )),
                "{url}"
            );
        }
    }

    #[test]
    fn a_call_reaches_only_its_arns_region() {
        let custom = Policy::new(Some("http://127.0.0.1:4566")).unwrap();
        let arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:Hello";
        let call = custom.for_call(Some(arn));
        for url in [
            "https://states.eu-west-1.amazonaws.com/",
            "https://sync-states.eu-west-1.amazonaws.com/",
            "https://states-fips.eu-west-1.api.aws/",
            "https://states.eu-west-1.api.aws/",
            "http://127.0.0.1:4566/",
        ] {
            assert_eq!(check(&call, url), Ok(()), "{url}");
        }
        for url in [
            "https://states.us-east-1.amazonaws.com/",
            "https://states.cn-north-1.amazonaws.com.cn/",
            "https://sync-states.eu-west-2.amazonaws.com/",
        ] {
            assert!(check(&call, url).is_err(), "{url}");
        }
        // An execution's ARN scopes its call the same way.
        let execution = "arn:aws-cn:states:cn-north-1:123456789012:execution:Hello:run-1";
        let described = Policy::default().for_call(Some(execution));
        assert_eq!(
            check(&described, "https://states.cn-north-1.amazonaws.com.cn/"),
            Ok(())
        );
        assert!(check(&described, "https://states.eu-west-1.amazonaws.com/").is_err());
        // No ARN, or one with no region, allows no standard endpoint, only the custom one.
        assert!(
            check(
                &custom.for_call(None),
                "https://states.eu-west-1.amazonaws.com/"
            )
            .is_err()
        );
        let nowhere = custom.for_call(Some("nope"));
        assert!(check(&nowhere, "https://states.eu-west-1.amazonaws.com/").is_err());
        assert_eq!(check(&nowhere, "http://127.0.0.1:4566/"), Ok(()));
    }

    #[test]
    fn the_configured_endpoint_is_allowed_exactly() {
        let policy = Policy::new(Some("http://127.0.0.1:4566")).unwrap();
        assert_eq!(check(&policy, "http://127.0.0.1:4566/"), Ok(()));
        // --sync uses a custom endpoint as given: no sync- host is made up for it.
        assert!(check(&policy, "http://sync-127.0.0.1:4566/").is_err());
        assert!(check(&policy, "http://127.0.0.1:4567/").is_err());
        assert!(check(&policy, "https://127.0.0.1:4566/").is_err());
        assert!(check(&policy, "http://localhost:4566/").is_err());
        let default_port = Policy::new(Some("https://sfn.internal")).unwrap();
        assert_eq!(check(&default_port, "https://SFN.internal:443/"), Ok(()));
        assert_eq!(
            Policy::new(Some("ftp://x")).map_err(|e| e.to_string()),
            Err("custom endpoint 'ftp://x' must start with https:// or http://".into())
        );
        // What the core refuses as an endpoint, the policy allows nothing for.
        assert!(Policy::new(Some("http://h/path")).is_err());
        assert!(Policy::new(Some("http://u:p@h")).is_err());
    }
}
