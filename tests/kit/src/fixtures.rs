//! The test data every layer reads: the SigV4 vector and the endpoint rule set's table, from
//! `tests/fixtures/`. Compiled in, so that a test binary needs no working directory.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

/// `tests/fixtures/sigv4-vector.json`: one StartExecution signed by botocore.
#[derive(Debug, Clone, Deserialize)]
pub struct Vector {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
    /// RFC 3339, as `--signing-time` takes it.
    pub signing_time: String,
    pub signing_time_epoch_seconds: u64,
    pub state_machine_arn: String,
    pub request: VectorRequest,
}

/// The signed request, headers in the order the signer gives them.
#[derive(Debug, Clone, Deserialize)]
pub struct VectorRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Vector {
    pub fn time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.signing_time_epoch_seconds)
    }

    /// The value of one header (lower-case name).
    pub fn header(&self, name: &str) -> &str {
        let found = self.request.headers.iter().find(|(k, _)| k == name);
        found.map(|(_, v)| v.as_str()).unwrap_or_default()
    }
}

/// The file's text, for layers that compare text rather than values.
pub const SIGV4_VECTOR_JSON: &str = include_str!("../../fixtures/sigv4-vector.json");

pub fn sigv4_vector() -> Vector {
    serde_json::from_str(SIGV4_VECTOR_JSON).expect("tests/fixtures/sigv4-vector.json is valid")
}

/// One row of `tests/fixtures/endpoints.txt`: a region and its four URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRow {
    pub region: String,
    /// `(fips, dual_stack, url without the trailing /)`, in the order plain, FIPS,
    /// dual-stack, both.
    pub urls: Vec<(bool, bool, String)>,
}

pub fn endpoints() -> Vec<EndpointRow> {
    let text = include_str!("../../fixtures/endpoints.txt");
    let flags = [(false, false), (true, false), (false, true), (true, true)];
    let rows = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    rows.map(|line| {
        let mut cells = line.split('|').map(str::trim);
        let region = cells.next().unwrap_or_default().to_string();
        let urls: Vec<(bool, bool, String)> = flags
            .into_iter()
            .zip(cells)
            .map(|((fips, dual), url)| (fips, dual, url.to_string()))
            .collect();
        assert_eq!(urls.len(), 4, "four URLs for {region} in endpoints.txt");
        EndpointRow { region, urls }
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixtures_parse() {
        let vector = sigv4_vector();
        assert_eq!(vector.header("x-amz-date"), "20150830T123600Z");
        assert_eq!(vector.request.headers.len(), 6);
        let rows = endpoints();
        assert_eq!(rows.len(), 13);
        assert!(rows.iter().all(|r| r.urls.len() == 4));
    }
}
