//! The AWS partitions (botocore `partitions.json`) and which one a region belongs to.

/// One AWS partition: its id, DNS suffixes and region naming pattern.
#[derive(Debug, PartialEq, Eq)]
pub struct Partition {
    pub id: &'static str,
    pub dns_suffix: &'static str,
    pub dual_stack_dns_suffix: &'static str,
    /// The leading labels a region of this partition starts with. Every partition's
    /// `regionRegex` is `^<prefix>-\w+-\d+$`, so a region is a prefix, one word and a number.
    prefixes: &'static [&'static str],
}

pub const PARTITIONS: &[Partition] = &[
    Partition {
        id: "aws",
        dns_suffix: "amazonaws.com",
        dual_stack_dns_suffix: "api.aws",
        prefixes: &["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"],
    },
    Partition {
        id: "aws-cn",
        dns_suffix: "amazonaws.com.cn",
        dual_stack_dns_suffix: "api.amazonwebservices.com.cn",
        prefixes: &["cn"],
    },
    Partition {
        id: "aws-us-gov",
        dns_suffix: "amazonaws.com",
        dual_stack_dns_suffix: "api.aws",
        prefixes: &["us-gov"],
    },
    Partition {
        id: "aws-iso",
        dns_suffix: "c2s.ic.gov",
        dual_stack_dns_suffix: "api.aws.ic.gov",
        prefixes: &["us-iso"],
    },
    Partition {
        id: "aws-iso-b",
        dns_suffix: "sc2s.sgov.gov",
        dual_stack_dns_suffix: "api.aws.scloud",
        prefixes: &["us-isob"],
    },
    Partition {
        id: "aws-iso-e",
        dns_suffix: "cloud.adc-e.uk",
        dual_stack_dns_suffix: "api.cloud-aws.adc-e.uk",
        prefixes: &["eu-isoe"],
    },
    Partition {
        id: "aws-iso-f",
        dns_suffix: "csp.hci.ic.gov",
        dual_stack_dns_suffix: "api.aws.hci.ic.gov",
        prefixes: &["us-isof"],
    },
    Partition {
        id: "aws-eusc",
        dns_suffix: "amazonaws.eu",
        dual_stack_dns_suffix: "api.amazonwebservices.eu",
        prefixes: &["eusc-de"],
    },
];

/// The ids of all partitions, for error messages.
pub fn ids() -> String {
    PARTITIONS
        .iter()
        .map(|p| p.id)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The partition with this id, if it is one of the known ones.
pub fn by_id(id: &str) -> Option<&'static Partition> {
    PARTITIONS.iter().find(|p| p.id == id)
}

/// The partition whose region pattern matches `region`.
pub fn of_region(region: &str) -> Option<&'static Partition> {
    PARTITIONS.iter().find(|p| p.matches(region))
}

impl Partition {
    fn matches(&self, region: &str) -> bool {
        self.prefixes.iter().any(|prefix| {
            region
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(is_word_then_number)
        })
    }
}

/// `\w+-\d+` over the DNS-safe alphabet.
fn is_word_then_number(rest: &str) -> bool {
    match rest.split_once('-') {
        Some((word, number)) => {
            !word.is_empty()
                && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// A region name must be usable as DNS labels before it goes into a host name.
pub fn is_dns_safe(region: &str) -> bool {
    !region.is_empty()
        && region.split('-').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Longer than any region name AWS uses, short enough to quote in a message.
pub const MAX_REGION_CHARS: usize = 64;

/// Checks a region name: DNS-safe and in a known partition. The error completes the
/// sentence "region ...".
pub fn check_region(region: &str) -> Result<&'static Partition, String> {
    // Checked first, so that a message never quotes an unbounded text.
    let count = region.chars().count();
    if count > MAX_REGION_CHARS {
        return Err(format!(
            "must be at most {MAX_REGION_CHARS} characters, got {count}"
        ));
    }
    if !is_dns_safe(region) {
        return Err(format!(
            "'{}' is not a region name: use lower-case letters, digits and single hyphens, such as us-east-1",
            region.escape_debug()
        ));
    }
    of_region(region).ok_or_else(|| {
        format!(
            "'{region}' is not a region of a known partition ({})",
            ids()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_partition_is_found_by_its_regions() {
        let cases = [
            ("us-east-1", "aws"),
            ("ap-southeast-7", "aws"),
            ("il-central-1", "aws"),
            ("mx-central-1", "aws"),
            ("cn-north-1", "aws-cn"),
            ("cn-northwest-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-gov-east-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("eu-isoe-west-1", "aws-iso-e"),
            ("us-isof-south-1", "aws-iso-f"),
            ("eusc-de-east-1", "aws-eusc"),
        ];
        for (region, id) in cases {
            assert_eq!(of_region(region).map(|p| p.id), Some(id), "{region}");
        }
    }

    #[test]
    fn regions_outside_every_pattern_are_refused() {
        for region in [
            "xx-fake-1",
            "us-east",
            "us-east-1a",
            "eusc-fr-east-1",
            "us--east-1",
            "us-east-1-",
            "global",
            "aws-global",
        ] {
            assert_eq!(of_region(region), None, "{region}");
        }
    }

    #[test]
    fn patterns_follow_the_regexes_to_the_letter() {
        // `^(us|...)-\w+-\d+$` reads `us-gov-1` as an `aws` region, as botocore does.
        assert_eq!(of_region("us-gov-1").map(|p| p.id), Some("aws"));
    }

    #[test]
    fn a_long_region_is_refused_without_being_quoted() {
        let long = "a".repeat(1_000_000);
        assert_eq!(
            check_region(&long),
            Err("must be at most 64 characters, got 1000000".into())
        );
        let longest = "a".repeat(MAX_REGION_CHARS);
        assert!(check_region(&longest).unwrap_err().contains(&longest));
    }

    #[test]
    fn dns_safety() {
        assert!(is_dns_safe("us-east-1"));
        for region in [
            "",
            "US-EAST-1",
            "us_east_1",
            "us.east.1",
            "us-east-1-",
            "-us",
            "us east",
        ] {
            assert!(!is_dns_safe(region), "{region}");
        }
        assert_eq!(
            check_region("us.evil.com/x").unwrap_err(),
            "'us.evil.com/x' is not a region name: use lower-case letters, digits and single hyphens, such as us-east-1"
        );
        assert_eq!(
            check_region("xx-fake-1").unwrap_err(),
            "'xx-fake-1' is not a region of a known partition (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc)"
        );
    }
}
