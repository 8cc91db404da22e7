//! State machine ARNs: `arn:<partition>:states:<region>:<account>:stateMachine:<name>[:<qualifier>]`.

use crate::name;
use crate::partition::{self, Partition};

/// ARNs are limited to 256 Unicode scalar values (`Arn` shape).
pub const MAX_CHARS: usize = 256;

/// Aliases are limited to 80 characters (`CharacterRestrictedName` shape).
const MAX_ALIAS_CHARS: usize = 80;

/// A parsed state machine ARN.
#[derive(Debug, PartialEq, Eq)]
pub struct StateMachineArn<'a> {
    /// The whole ARN as given.
    pub text: &'a str,
    pub partition: &'static Partition,
    pub region: &'a str,
    pub account: &'a str,
    pub name: &'a str,
    pub qualifier: Option<Qualifier<'a>>,
}

/// What follows the state machine name.
#[derive(Debug, PartialEq, Eq)]
pub enum Qualifier<'a> {
    Version(&'a str),
    Alias(&'a str),
}

impl StateMachineArn<'_> {
    /// The ARN of this state machine's execution named `name` (spec §3.2): a version or
    /// alias does not appear in it.
    pub fn execution_arn(&self, name: &str) -> String {
        let (partition, region, account) = (self.partition.id, self.region, self.account);
        format!(
            "arn:{partition}:states:{region}:{account}:execution:{}:{name}",
            self.name
        )
    }
}

const SHAPE: &str =
    "arn:<partition>:states:<region>:<account-id>:stateMachine:<name>[:<version-or-alias>]";

/// Parses and checks a state machine ARN; each message completes a sentence about
/// `state_machine_arn`.
pub fn parse(arn: &str) -> Result<StateMachineArn<'_>, Vec<String>> {
    let parts = split(arn, 7..=8, SHAPE)?;
    check_parts(arn, &parts)
}

/// The `:`-separated parts of an ARN of at most [`MAX_CHARS`] characters, starting `arn`,
/// with a count of parts in `parts`; or why not.
fn split<'a>(
    arn: &'a str,
    parts: std::ops::RangeInclusive<usize>,
    shape: &str,
) -> Result<Vec<&'a str>, Vec<String>> {
    let count = arn.chars().count();
    if count == 0 {
        return Err(vec!["is required and must not be empty".into()]);
    }
    if count > MAX_CHARS {
        return Err(vec![format!(
            "must be at most {MAX_CHARS} characters, got {count}"
        )]);
    }
    let split: Vec<&str> = arn.split(':').collect();
    if !parts.contains(&split.len()) || split[0] != "arn" {
        return Err(vec![format!(
            "must have the form {shape}, got '{}'",
            arn.escape_debug()
        )]);
    }
    Ok(split)
}

fn check_parts<'a>(text: &'a str, parts: &[&'a str]) -> Result<StateMachineArn<'a>, Vec<String>> {
    let (partition, mut problems) = check_prefix(parts);
    if parts[5] != "stateMachine" {
        problems.push(format!(
            "resource type must be 'stateMachine', got '{}'",
            parts[5].escape_debug()
        ));
    }
    problems.extend(name_problems(parts[6]));
    let qualifier = parts.get(7).map(|q| qualifier(q));
    if let Some(Err(problem)) = &qualifier {
        problems.push(problem.clone());
    }
    match (partition, qualifier.transpose()) {
        (Some(partition), Ok(qualifier)) if problems.is_empty() => Ok(StateMachineArn {
            text,
            partition,
            region: parts[3],
            account: parts[4],
            name: parts[6],
            qualifier,
        }),
        _ => Err(problems),
    }
}

/// Checks `arn:<partition>:states:<region>:<account-id>` of a split ARN.
fn check_prefix(parts: &[&str]) -> (Option<&'static Partition>, Vec<String>) {
    let mut problems = Vec::new();
    let partition = partition::by_id(parts[1]);
    if partition.is_none() {
        problems.push(format!(
            "partition '{}' is not one of {}",
            parts[1].escape_debug(),
            partition::ids()
        ));
    }
    if parts[2] != "states" {
        problems.push(format!(
            "service must be 'states', got '{}'",
            parts[2].escape_debug()
        ));
    }
    if let Some(problem) = region_problem(parts[3], partition) {
        problems.push(problem);
    }
    if parts[4].len() != 12 || !parts[4].bytes().all(|b| b.is_ascii_digit()) {
        problems.push(format!(
            "account id must be 12 digits, got '{}'",
            parts[4].escape_debug()
        ));
    }
    (partition, problems)
}

/// Where an execution's ARN says it runs.
#[derive(Debug, PartialEq, Eq)]
pub struct ExecutionArn<'a> {
    pub partition: &'static Partition,
    pub region: &'a str,
}

const EXECUTION_SHAPE: &str =
    "arn:<partition>:states:<region>:<account-id>:execution:<state-machine>:<name>";

/// Parses and checks an execution ARN; each message completes a sentence about
/// `execution_arn`. An express execution's ARN is refused by name: DescribeExecution does
/// not know express executions.
pub fn parse_execution(arn: &str) -> Result<ExecutionArn<'_>, Vec<String>> {
    let parts = split(arn, 8..=usize::MAX, EXECUTION_SHAPE)?;
    let (partition, mut problems) = check_prefix(&parts);
    match parts[5] {
        "execution" => {}
        "express" => problems.push(
            "is an EXPRESS execution's: Step Functions does not record express executions, so they cannot be described or waited for; run the state machine with StartSyncExecution (--sync) to get its outcome".into(),
        ),
        other => problems.push(format!(
            "resource type must be 'execution', got '{}'",
            other.escape_debug()
        )),
    }
    if parts[6..].iter().any(|part| part.is_empty()) {
        problems.push(format!(
            "must have the form {EXECUTION_SHAPE}, got '{}'",
            arn.escape_debug()
        ));
    }
    match partition {
        Some(partition) if problems.is_empty() => Ok(ExecutionArn {
            partition,
            region: parts[3],
        }),
        _ => Err(problems),
    }
}

fn region_problem(region: &str, partition: Option<&'static Partition>) -> Option<String> {
    match partition::check_region(region) {
        Err(problem) => Some(format!("region {problem}")),
        Ok(found) => match partition {
            Some(expected) if expected != found => Some(format!(
                "region '{region}' belongs to partition {}, not to the ARN's partition {}",
                found.id, expected.id
            )),
            _ => None,
        },
    }
}

fn name_problems(name: &str) -> Vec<String> {
    if let Some((machine, label)) = name.split_once('/') {
        return vec![format!(
            "'{}/{}' is a Distributed Map run label, which StartExecution does not accept: use the state machine's own ARN",
            machine.escape_debug(),
            label.escape_debug()
        )];
    }
    name::check(name)
        .into_iter()
        .map(|problem| format!("state machine name {problem}"))
        .collect()
}

/// A version is all digits; an alias has at least one character that is not a digit
/// (the `CharacterRestrictedName` rule that keeps aliases apart from versions).
fn qualifier(q: &str) -> Result<Qualifier<'_>, String> {
    if q.is_empty() {
        return Err("version or alias after the state machine name must not be empty".into());
    }
    if q.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Qualifier::Version(q));
    }
    let count = q.chars().count();
    if count > MAX_ALIAS_CHARS {
        return Err(format!(
            "alias must be at most {MAX_ALIAS_CHARS} characters, got {count}"
        ));
    }
    match q
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_-.".contains(*c)))
    {
        Some(c) => Err(format!(
            "alias '{}' may contain only letters, digits, '_', '-' and '.': found {}",
            q.escape_debug(),
            name::describe(c)
        )),
        None => Ok(Qualifier::Alias(q)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld";

    #[test]
    fn execution_arns_leave_out_the_version_or_alias() {
        for arn in [
            BASE.to_string(),
            format!("{BASE}:7"),
            format!("{BASE}:PROD"),
        ] {
            assert_eq!(
                parse(&arn).unwrap().execution_arn("run-1"),
                "arn:aws:states:us-east-1:123456789012:execution:HelloWorld:run-1"
            );
        }
        let gov = "arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:M";
        assert_eq!(
            parse(gov).unwrap().execution_arn("n"),
            "arn:aws-us-gov:states:us-gov-west-1:123456789012:execution:M:n"
        );
    }

    #[test]
    fn execution_arns_name_their_partition_and_region() {
        let arn = "arn:aws-cn:states:cn-north-1:123456789012:execution:M:run-1";
        let parsed = parse_execution(arn).unwrap();
        assert_eq!(
            (parsed.partition.id, parsed.region),
            ("aws-cn", "cn-north-1")
        );
        let express = "arn:aws:states:us-east-1:123456789012:express:M:run-1:2b6f-4c1e";
        assert!(parse_execution(express).unwrap_err()[0].starts_with("is an EXPRESS execution's"));
        assert_eq!(
            parse_execution("arn:aws:states:mars-1:12:stateMachine:M:x").unwrap_err(),
            [
                "region 'mars-1' is not a region of a known partition (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc)",
                "account id must be 12 digits, got '12'",
                "resource type must be 'execution', got 'stateMachine'",
            ]
        );
        assert_eq!(
            parse_execution("arn:aws:states:us-east-1:123456789012:execution:M").unwrap_err(),
            [
                "must have the form arn:<partition>:states:<region>:<account-id>:execution:<state-machine>:<name>, got 'arn:aws:states:us-east-1:123456789012:execution:M'"
            ]
        );
        assert_eq!(
            parse_execution("").unwrap_err(),
            ["is required and must not be empty"]
        );
    }

    #[test]
    fn unqualified_version_and_alias_forms() {
        let plain = parse(BASE).unwrap();
        assert_eq!(plain.partition.id, "aws");
        assert_eq!(plain.region, "us-east-1");
        assert_eq!(plain.account, "123456789012");
        assert_eq!(plain.name, "HelloWorld");
        assert_eq!(plain.qualifier, None);
        let version = format!("{BASE}:10");
        assert_eq!(
            parse(&version).unwrap().qualifier,
            Some(Qualifier::Version("10"))
        );
        let alias = format!("{BASE}:PROD");
        assert_eq!(
            parse(&alias).unwrap().qualifier,
            Some(Qualifier::Alias("PROD"))
        );
        let mixed = format!("{BASE}:1a");
        assert_eq!(
            parse(&mixed).unwrap().qualifier,
            Some(Qualifier::Alias("1a"))
        );
        let dotted = format!("{BASE}:v1.2-beta_3");
        assert!(parse(&dotted).is_ok());
    }

    #[test]
    fn every_partition_is_accepted_with_its_own_regions() {
        for (partition, region) in [
            ("aws", "eu-west-1"),
            ("aws-cn", "cn-north-1"),
            ("aws-us-gov", "us-gov-west-1"),
            ("aws-iso", "us-iso-east-1"),
            ("aws-iso-b", "us-isob-east-1"),
            ("aws-iso-e", "eu-isoe-west-1"),
            ("aws-iso-f", "us-isof-south-1"),
            ("aws-eusc", "eusc-de-east-1"),
        ] {
            let arn = format!("arn:{partition}:states:{region}:123456789012:stateMachine:m");
            let parsed = parse(&arn).unwrap_or_else(|e| panic!("{arn}: {e:?}"));
            assert_eq!(parsed.partition.id, partition);
        }
    }

    #[test]
    fn wrong_shapes_are_refused_with_the_expected_form() {
        for arn in [
            "HelloWorld",
            "arn:aws:states:us-east-1:123456789012:stateMachine",
            "arn:aws:states:us-east-1:123456789012:stateMachine:a:b:c",
            "urn:aws:states:us-east-1:123456789012:stateMachine:a",
        ] {
            let problems = parse(arn).unwrap_err();
            assert_eq!(
                problems,
                [format!("must have the form {SHAPE}, got '{arn}'")],
                "{arn}"
            );
        }
        assert_eq!(
            parse("").unwrap_err(),
            ["is required and must not be empty"]
        );
    }

    #[test]
    fn each_part_is_checked_and_all_problems_reported() {
        let problems = parse("arn:aws-moon:lambda:xx-fake-1:1234:function:my fn:").unwrap_err();
        assert_eq!(
            problems,
            [
                "partition 'aws-moon' is not one of aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc",
                "service must be 'states', got 'lambda'",
                "region 'xx-fake-1' is not a region of a known partition (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc)",
                "account id must be 12 digits, got '1234'",
                "resource type must be 'stateMachine', got 'function'",
                "state machine name must not contain white space: found U+0020 at byte 2",
                "version or alias after the state machine name must not be empty",
            ]
        );
    }

    #[test]
    fn region_must_belong_to_the_arns_partition() {
        let problems = parse("arn:aws:states:cn-north-1:123456789012:stateMachine:m").unwrap_err();
        assert_eq!(
            problems,
            ["region 'cn-north-1' belongs to partition aws-cn, not to the ARN's partition aws"]
        );
    }

    #[test]
    fn map_run_labels_get_their_own_message() {
        let problems = parse(&format!("{BASE}/myMapLabel")).unwrap_err();
        assert_eq!(
            problems,
            [
                "'HelloWorld/myMapLabel' is a Distributed Map run label, which StartExecution does not accept: use the state machine's own ARN"
            ]
        );
    }

    #[test]
    fn bad_aliases_are_refused() {
        assert_eq!(
            parse(&format!("{BASE}:PR@D")).unwrap_err(),
            ["alias 'PR@D' may contain only letters, digits, '_', '-' and '.': found '@' (U+0040)"]
        );
        assert_eq!(
            parse(&format!("{BASE}:{}", "a".repeat(81))).unwrap_err(),
            ["alias must be at most 80 characters, got 81"]
        );
    }

    #[test]
    fn length_is_counted_in_scalar_values() {
        let prefix = "arn:aws:states:us-east-1:123456789012:stateMachine:";
        let long = format!("{prefix}{}", "a".repeat(MAX_CHARS + 1 - prefix.len()));
        assert_eq!(
            parse(&long).unwrap_err(),
            ["must be at most 256 characters, got 257"]
        );
    }
}
