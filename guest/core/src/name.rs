//! Step Functions naming rules (API reference, `Name` shape; spec §3.3), shared by execution
//! names and the state machine name inside an ARN.

/// Names are limited to 80 Unicode scalar values (Smithy `@length` counts scalar values).
pub const MAX_CHARS: usize = 80;

/// Checks a Step Functions name. Each message completes a sentence about the field.
pub fn check(name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let count = name.chars().count();
    if count == 0 {
        problems.push("must not be empty".to_string());
    } else if count > MAX_CHARS {
        problems.push(format!(
            "must be at most {MAX_CHARS} characters (Unicode scalar values), got {count}"
        ));
    }
    if let Some((position, c)) = name.char_indices().find(|(_, c)| forbidden(*c).is_some()) {
        let class = forbidden(c).unwrap_or_default();
        problems.push(format!(
            "must not contain {class}: found {} at byte {position}",
            describe(c)
        ));
    }
    problems
}

/// The class of a character Step Functions refuses in names, if it is one.
fn forbidden(c: char) -> Option<&'static str> {
    match c {
        c if c.is_whitespace() => Some("white space"),
        '<' | '>' | '{' | '}' | '[' | ']' => Some("brackets < > { } [ ]"),
        '?' | '*' => Some("wildcards ? *"),
        '"' | '#' | '%' | '\\' | '^' | '|' | '~' | '`' | '$' | '&' | ',' | ';' | ':' | '/' => {
            Some("special characters \" # % \\ ^ | ~ ` $ & , ; : /")
        }
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => Some("control characters"),
        '\u{fffe}' | '\u{ffff}' | '\u{10ffff}' => {
            Some("the non-characters U+FFFE, U+FFFF and U+10FFFF")
        }
        _ => None,
    }
}

/// A character as a reader can see it: quoted when printable, else its code point.
pub fn describe(c: char) -> String {
    if c.is_control() || c.is_whitespace() || forbidden_noncharacter(c) {
        format!("U+{:04X}", c as u32)
    } else {
        format!("'{c}' (U+{:04X})", c as u32)
    }
}

fn forbidden_noncharacter(c: char) -> bool {
    matches!(c, '\u{fffe}' | '\u{ffff}' | '\u{10ffff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eighty_scalar_values_pass_and_eighty_one_fail_even_when_multi_byte() {
        let eighty = "é".repeat(80);
        assert_eq!(eighty.len(), 160);
        assert!(check(&eighty).is_empty());
        assert!(check(&"😀".repeat(80)).is_empty());
        assert_eq!(
            check(&"😀".repeat(81)),
            ["must be at most 80 characters (Unicode scalar values), got 81"]
        );
        assert_eq!(check(""), ["must not be empty"]);
    }

    #[test]
    fn each_forbidden_class_is_named() {
        let cases = [
            ("a b", "white space: found U+0020 at byte 1"),
            ("a\u{a0}b", "white space: found U+00A0 at byte 1"),
            ("a\u{2003}b", "white space: found U+2003 at byte 1"),
            ("a\tb", "white space: found U+0009 at byte 1"),
            ("x<", "brackets < > { } [ ]: found '<' (U+003C) at byte 1"),
            ("x}", "brackets < > { } [ ]: found '}' (U+007D) at byte 1"),
            ("x[", "brackets < > { } [ ]: found '[' (U+005B) at byte 1"),
            ("x?", "wildcards ? *: found '?' (U+003F) at byte 1"),
            ("x*", "wildcards ? *: found '*' (U+002A) at byte 1"),
            ("x\u{0}", "control characters: found U+0000 at byte 1"),
            ("x\u{1b}", "control characters: found U+001B at byte 1"),
            ("x\u{7f}", "control characters: found U+007F at byte 1"),
            ("x\u{9f}", "control characters: found U+009F at byte 1"),
            (
                "x\u{fffe}",
                "the non-characters U+FFFE, U+FFFF and U+10FFFF: found U+FFFE at byte 1",
            ),
            (
                "x\u{10ffff}",
                "the non-characters U+FFFE, U+FFFF and U+10FFFF: found U+10FFFF at byte 1",
            ),
        ];
        for (name, expected) in cases {
            assert_eq!(
                check(name),
                [format!("must not contain {expected}")],
                "{name:?}"
            );
        }
        for special in "\"#%\\^|~`$&,;:/".chars() {
            let problems = check(&format!("ab{special}"));
            assert_eq!(problems.len(), 1, "{special}");
            assert!(
                problems[0].starts_with("must not contain special characters"),
                "{special}: {problems:?}"
            );
        }
    }

    #[test]
    fn allowed_characters_pass() {
        for name in ["run-1", "a_b.c", "Ünïcødé", "日本語", "x\u{a1}", "@!()+='"] {
            assert!(check(name).is_empty(), "{name}");
        }
    }

    #[test]
    fn length_and_character_problems_are_both_reported() {
        let problems = check(&format!("{} ", "a".repeat(80)));
        assert_eq!(problems.len(), 2);
    }
}
