//! The outbound HTTP policy: deny by default. The component may reach only the `https`
//! Step Functions endpoints of known partitions and the one custom endpoint the host was
//! configured with, in the spirit of Spin's `allowed_outbound_hosts`.

use http::Uri;
use sfn_start_execution::endpoint;
use sfn_start_execution::partition;

/// What the component may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// `(scheme, host, port)` of the configured custom endpoint.
    custom: Option<(String, String, u16)>,
}

impl Policy {
    /// A policy that also allows `custom_endpoint` (an `http(s)://host[:port]` URL).
    pub fn new(custom_endpoint: Option<&str>) -> Result<Self, String> {
        let custom = match custom_endpoint {
            None => None,
            Some(url) => {
                let uri: Uri = url
                    .parse()
                    .map_err(|e| format!("custom endpoint '{url}' is not a URL: {e}"))?;
                Some(origin(&uri).ok_or_else(|| {
                    format!(
                        "custom endpoint '{url}' must be an http:// or https:// URL with a host"
                    )
                })?)
            }
        };
        Ok(Self { custom })
    }

    /// `Ok` if the request may go out; otherwise the reason, naming the host.
    pub fn check(&self, uri: &Uri) -> Result<(), String> {
        let Some((scheme, host, port)) = origin(uri) else {
            return Err(format!(
                "outbound request to '{uri}' refused: no scheme or host"
            ));
        };
        let allowed = self.custom.as_ref() == Some(&(scheme.clone(), host.clone(), port))
            || (scheme == "https" && port == 443 && is_step_functions_host(&host));
        if allowed {
            Ok(())
        } else {
            Err(format!(
                "outbound request to {scheme}://{host}:{port} refused: only the Step Functions endpoints and the configured endpoint are allowed"
            ))
        }
    }
}

/// Scheme, lower-cased host and port (defaulted by scheme) of an absolute URL.
fn origin(uri: &Uri) -> Option<(String, String, u16)> {
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let authority = uri.authority()?;
    let host = authority.host().to_ascii_lowercase();
    Some((scheme, host, authority.port_u16().unwrap_or(default_port)))
}

/// Whether `host` is what the endpoint rules give for some region of a known partition,
/// with or without FIPS and dual-stack: the same rules the component uses.
pub fn is_step_functions_host(host: &str) -> bool {
    let Some(rest) = host
        .strip_prefix("states.")
        .or_else(|| host.strip_prefix("states-fips."))
    else {
        return false;
    };
    let region = rest.split('.').next().unwrap_or_default();
    let Some(partition) = partition::of_region(region) else {
        return false;
    };
    [(false, false), (true, false), (false, true), (true, true)]
        .into_iter()
        .any(|(fips, dual)| endpoint::standard(partition, region, fips, dual).authority == host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(policy: &Policy, url: &str) -> Result<(), String> {
        policy.check(&url.parse().unwrap())
    }

    #[test]
    fn step_functions_hosts_of_every_partition_are_allowed() {
        let policy = Policy::default();
        for url in [
            "https://states.us-east-1.amazonaws.com/",
            "https://states-fips.us-east-1.amazonaws.com/",
            "https://states.us-east-1.api.aws/",
            "https://states-fips.us-gov-east-1.api.aws/",
            "https://states.cn-north-1.amazonaws.com.cn:443/",
            "https://states.eusc-de-east-1.amazonaws.eu/",
            "https://states-fips.us-isof-south-1.api.aws.hci.ic.gov/",
        ] {
            assert_eq!(check(&policy, url), Ok(()), "{url}");
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
    fn the_configured_endpoint_is_allowed_exactly() {
        let policy = Policy::new(Some("http://127.0.0.1:4566")).unwrap();
        assert_eq!(check(&policy, "http://127.0.0.1:4566/"), Ok(()));
        assert!(check(&policy, "http://127.0.0.1:4567/").is_err());
        assert!(check(&policy, "https://127.0.0.1:4566/").is_err());
        assert!(check(&policy, "http://localhost:4566/").is_err());
        let default_port = Policy::new(Some("https://sfn.internal")).unwrap();
        assert_eq!(check(&default_port, "https://SFN.internal:443/"), Ok(()));
        assert!(Policy::new(Some("ftp://x")).is_err());
    }
}
