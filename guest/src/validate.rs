//! Checks all five arguments of the action at once, before any I/O.

use crate::arn::{self, StateMachineArn};
use crate::error::FieldError;
use crate::{input, name, partition};

/// The action's arguments, as Terraform names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub state_machine_arn: String,
    pub input: Option<String>,
    pub name: Option<String>,
    pub region: Option<String>,
    pub trace_header: Option<String>,
}

/// Arguments that passed every rule.
#[derive(Debug)]
pub struct Validated<'a> {
    pub arn: StateMachineArn<'a>,
    pub input: &'a str,
    pub name: Option<&'a str>,
    pub trace_header: Option<&'a str>,
}

/// `traceHeader` is `\p{ASCII}*`, 0 to 256 characters.
pub const MAX_TRACE_HEADER_CHARS: usize = 256;

/// Checks every argument; on failure lists every broken rule, in argument order.
pub fn validate(config: &Config) -> Result<Validated<'_>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut report = |field: &'static str, problems: Vec<String>| {
        errors.extend(problems.into_iter().map(|m| FieldError::new(field, m)));
    };
    let arn = arn::parse(&config.state_machine_arn);
    if let Err(problems) = &arn {
        report("state_machine_arn", problems.clone());
    }
    let input = config.input.as_deref().unwrap_or(input::DEFAULT);
    report("input", input::check(input));
    if let Some(name) = &config.name {
        report("name", name::check(name));
    }
    if let Some(region) = &config.region {
        report("region", check_region(region, arn.as_ref().ok()));
    }
    if let Some(header) = &config.trace_header {
        report("trace_header", check_trace_header(header));
    }
    match arn {
        Ok(arn) if errors.is_empty() => Ok(Validated {
            arn,
            input,
            name: config.name.as_deref(),
            trace_header: config.trace_header.as_deref(),
        }),
        _ => Err(errors),
    }
}

/// A state machine can only be started in its own region, so a region override must agree
/// with the ARN rather than send a request the service would refuse.
fn check_region(region: &str, arn: Option<&StateMachineArn<'_>>) -> Vec<String> {
    let found = match partition::check_region(region) {
        Ok(found) => found,
        Err(problem) => return vec![problem],
    };
    match arn {
        Some(arn) if arn.partition != found => vec![format!(
            "'{region}' is in partition {} but state_machine_arn is in partition {} (region {}); a state machine can only be started in its own region",
            found.id, arn.partition.id, arn.region
        )],
        Some(arn) if arn.region != region => vec![format!(
            "'{region}' differs from the region of state_machine_arn ('{}'); a state machine can only be started in its own region",
            arn.region
        )],
        _ => vec![],
    }
}

fn check_trace_header(header: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let count = header.chars().count();
    if count > MAX_TRACE_HEADER_CHARS {
        problems.push(format!(
            "must be at most {MAX_TRACE_HEADER_CHARS} characters, got {count}"
        ));
    }
    if let Some((position, c)) = header.char_indices().find(|(_, c)| !c.is_ascii()) {
        problems.push(format!(
            "must contain only ASCII characters: found {} at byte {position}",
            name::describe(c)
        ));
    }
    if let Some(position) = header.find(['\r', '\n']) {
        problems.push(format!(
            "must not contain CR or LF: found one at byte {position}"
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld";

    fn config(arn: &str) -> Config {
        Config {
            state_machine_arn: arn.into(),
            ..Config::default()
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn minimal_config_defaults_the_input() {
        let c = config(ARN);
        let validated = validate(&c).unwrap();
        assert_eq!(validated.input, "{}");
        assert_eq!(validated.name, None);
        assert_eq!(validated.trace_header, None);
    }

    #[test]
    fn every_field_error_is_reported_at_once_in_argument_order() {
        let errors = validate(&Config {
            state_machine_arn: "".into(),
            input: Some("".into()),
            name: Some("a b".into()),
            region: Some("Mars".into()),
            trace_header: Some("é\n".into()),
        })
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "state_machine_arn: is required and must not be empty",
                "input: must be valid JSON: EOF while parsing a value at line 1 column 0",
                "name: must not contain white space: found U+0020 at byte 1",
                "region: 'Mars' is not a region name: use lower-case letters, digits and single hyphens, such as us-east-1",
                "trace_header: must contain only ASCII characters: found 'é' (U+00E9) at byte 0",
                "trace_header: must not contain CR or LF: found one at byte 2",
            ]
        );
    }

    #[test]
    fn region_must_match_the_arn() {
        let mut c = config(ARN);
        c.region = Some("us-east-1".into());
        assert!(validate(&c).is_ok());
        c.region = Some("us-west-2".into());
        assert_eq!(
            fields(&validate(&c).unwrap_err()),
            [
                "region: 'us-west-2' differs from the region of state_machine_arn ('us-east-1'); a state machine can only be started in its own region"
            ]
        );
        c.region = Some("cn-north-1".into());
        assert_eq!(
            fields(&validate(&c).unwrap_err()),
            [
                "region: 'cn-north-1' is in partition aws-cn but state_machine_arn is in partition aws (region us-east-1); a state machine can only be started in its own region"
            ]
        );
        c.region = Some("xx-fake-1".into());
        assert_eq!(
            fields(&validate(&c).unwrap_err()),
            [
                "region: 'xx-fake-1' is not a region of a known partition (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc)"
            ]
        );
    }

    #[test]
    fn trace_header_boundaries() {
        let mut c = config(ARN);
        c.trace_header = Some("a".repeat(256));
        assert!(validate(&c).is_ok());
        c.trace_header = Some(String::new());
        assert!(validate(&c).is_ok());
        c.trace_header = Some("a".repeat(257));
        assert_eq!(
            fields(&validate(&c).unwrap_err()),
            ["trace_header: must be at most 256 characters, got 257"]
        );
        c.trace_header = Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\r".into());
        assert_eq!(
            fields(&validate(&c).unwrap_err()),
            ["trace_header: must not contain CR or LF: found one at byte 50"]
        );
    }

    #[test]
    fn input_and_name_boundaries_reach_the_field() {
        let mut c = config(ARN);
        c.name = Some("ü".repeat(81));
        c.input = Some("{\"a\":".into());
        assert_eq!(
            fields(&validate(&c).unwrap_err()),
            [
                "input: must be valid JSON: EOF while parsing a value at line 1 column 5",
                "name: must be at most 80 characters (Unicode scalar values), got 81",
            ]
        );
        c.name = Some(String::new());
        c.input = None;
        assert_eq!(
            fields(&validate(&c).unwrap_err()),
            ["name: must not be empty"]
        );
    }
}
