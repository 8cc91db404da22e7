//! Checks all five arguments of the action at once, before any I/O.

use crate::arn::{self, StateMachineArn};
use crate::types::{FieldError, StartExecutionConfig};
use crate::{input, name, partition};

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
pub fn validate(config: &StartExecutionConfig) -> Result<Validated<'_>, Vec<FieldError>> {
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

    fn config(arn: &str) -> StartExecutionConfig {
        StartExecutionConfig {
            state_machine_arn: arn.into(),
            ..StartExecutionConfig::default()
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
        let errors = validate(&StartExecutionConfig {
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

    // The rules at their boundaries, once: the outer layers check the wiring only.

    /// The field errors of `config` (empty when valid).
    fn field_errors(config: StartExecutionConfig) -> Vec<FieldError> {
        validate(&config).err().unwrap_or_default()
    }

    fn with(edit: impl FnOnce(&mut StartExecutionConfig)) -> StartExecutionConfig {
        let mut c = config(ARN);
        edit(&mut c);
        c
    }

    fn field(field: &str, message: &str) -> FieldError {
        FieldError::new(field, message)
    }

    #[test]
    fn name_boundaries_in_scalar_values() {
        assert_eq!(field_errors(with(|c| c.name = Some("ж".repeat(80)))), []);
        assert_eq!(field_errors(with(|c| c.name = Some("𝄞".repeat(80)))), []);
        assert_eq!(
            field_errors(with(|c| c.name = Some("𝄞".repeat(81)))),
            [field(
                "name",
                "must be at most 80 characters (Unicode scalar values), got 81"
            )]
        );
        assert_eq!(
            field_errors(with(|c| c.name = Some(String::new()))),
            [field("name", "must not be empty")]
        );
        let classes = [
            ("run 1", "white space: found U+0020 at byte 3"),
            ("run\u{3000}1", "white space: found U+3000 at byte 3"),
            (
                "run{1",
                "brackets < > { } [ ]: found '{' (U+007B) at byte 3",
            ),
            ("run*", "wildcards ? *: found '*' (U+002A) at byte 3"),
            (
                "run#1",
                "special characters \" # % \\ ^ | ~ ` $ & , ; : /: found '#' (U+0023) at byte 3",
            ),
            ("run\u{85}", "white space: found U+0085 at byte 3"),
            ("run\u{90}", "control characters: found U+0090 at byte 3"),
            (
                "run\u{ffff}",
                "the non-characters U+FFFE, U+FFFF and U+10FFFF: found U+FFFF at byte 3",
            ),
        ];
        for (name, rule) in classes {
            assert_eq!(
                field_errors(with(|c| c.name = Some(name.into()))),
                [field("name", &format!("must not contain {rule}"))],
                "{name:?}"
            );
        }
    }

    #[test]
    fn input_boundaries_in_utf8_bytes() {
        // A JSON string of three-byte characters padded with white space to the limit.
        let text = format!("\"{}\"", "€".repeat((262_144 - 2) / 3));
        let at_limit = format!("{text}{}", " ".repeat(262_144 - text.len()));
        assert_eq!(at_limit.len(), 262_144);
        assert_eq!(field_errors(with(|c| c.input = Some(at_limit.clone()))), []);
        let over = at_limit + " ";
        assert_eq!(
            field_errors(with(|c| c.input = Some(over))),
            [field(
                "input",
                "must be at most 262144 bytes as UTF-8, got 262145"
            )]
        );
        assert_eq!(
            field_errors(with(|c| c.input = Some(String::new()))),
            [field(
                "input",
                "must be valid JSON: EOF while parsing a value at line 1 column 0"
            )]
        );
        for scalar in ["[1,2]", "\"text\"", "3.5e2", "null", " {\"a\" : true}\n"] {
            assert_eq!(
                field_errors(with(|c| c.input = Some(scalar.into()))),
                [],
                "{scalar}"
            );
        }
    }

    #[test]
    fn arn_forms_and_qualifiers() {
        for suffix in ["", ":10", ":PROD", ":1a", ":v2.beta-1_x"] {
            let arn = format!("{ARN}{suffix}");
            assert_eq!(field_errors(config(&arn)), [], "{arn}");
        }
        let cases = [
            (
                format!("{ARN}/mapLabel"),
                "'HelloWorld/mapLabel' is a Distributed Map run label, which StartExecution does not accept: use the state machine's own ARN",
            ),
            (
                format!("{ARN}:PR*D"),
                "alias 'PR*D' may contain only letters, digits, '_', '-' and '.': found '*' (U+002A)",
            ),
            (
                "arn:aws:states:us-east-1:123456789012:execution:HelloWorld:run".into(),
                "resource type must be 'stateMachine', got 'execution'",
            ),
            (
                "arn:aws-cn:states:us-east-1:123456789012:stateMachine:m".into(),
                "region 'us-east-1' belongs to partition aws, not to the ARN's partition aws-cn",
            ),
            (
                "arn:aws:states:us-east-1:12345678901:stateMachine:m".into(),
                "account id must be 12 digits, got '12345678901'",
            ),
            (String::new(), "is required and must not be empty"),
        ];
        for (arn, message) in cases {
            assert_eq!(
                field_errors(config(&arn)),
                [field("state_machine_arn", message)],
                "{arn}"
            );
        }
    }

    #[test]
    fn region_and_trace_header_rules() {
        assert_eq!(
            field_errors(with(|c| c.region = Some("eu-west-1".into()))),
            [field(
                "region",
                "'eu-west-1' differs from the region of state_machine_arn ('us-east-1'); a state machine can only be started in its own region"
            )]
        );
        assert_eq!(
            field_errors(with(|c| c.region = Some("us-east-1".into()))),
            []
        );
        assert_eq!(
            field_errors(with(|c| c.trace_header = Some("R".repeat(256)))),
            []
        );
        assert_eq!(
            field_errors(with(|c| c.trace_header = Some("R".repeat(257)))),
            [field(
                "trace_header",
                "must be at most 256 characters, got 257"
            )]
        );
        assert_eq!(
            field_errors(with(|c| c.trace_header = Some("Root=1\nSampled=1".into()))),
            [field(
                "trace_header",
                "must not contain CR or LF: found one at byte 6"
            )]
        );
    }
}
