//! The execution input: JSON text, at most 262,144 bytes, sent exactly as given.

/// "Maximum input or output size for a task, state, or execution: 262,144 bytes of data as a
/// UTF-8 encoded string."
pub const MAX_BYTES: usize = 262_144;

/// The input Terraform sends when none is given.
pub const DEFAULT: &str = "{}";

/// Checks the input; each message completes a sentence about `input`.
pub fn check(input: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if input.len() > MAX_BYTES {
        problems.push(format!(
            "must be at most {MAX_BYTES} bytes as UTF-8, got {}",
            input.len()
        ));
    }
    // Parsing into `IgnoredAny` checks the syntax without building (or re-serialising) a
    // value: the bytes the user gave are the bytes sent, which idempotency compares.
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(input) {
        problems.push(format!("must be valid JSON: {e}"));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_json_value_with_surrounding_white_space_is_accepted() {
        for input in [
            "{}",
            " {\"a\": [1, 2.5e3, null, true]} \n",
            "[]",
            "\"text\"",
            "42",
            "null",
            "{\"ü\":\"日本\"}",
        ] {
            assert!(check(input).is_empty(), "{input}");
        }
    }

    #[test]
    fn invalid_json_names_the_position() {
        assert_eq!(
            check(""),
            ["must be valid JSON: EOF while parsing a value at line 1 column 0"]
        );
        assert_eq!(
            check("[1,]"),
            ["must be valid JSON: expected value at line 1 column 4"]
        );
        assert_eq!(
            check("{} {}"),
            ["must be valid JSON: trailing characters at line 1 column 4"]
        );
    }

    #[test]
    fn size_limit_is_in_utf8_bytes() {
        // A JSON string of multi-byte characters, exactly at the limit and one byte over.
        let at_limit = format!("\"{}\"", "é".repeat((MAX_BYTES - 2) / 2));
        assert_eq!(at_limit.len(), MAX_BYTES);
        assert!(check(&at_limit).is_empty());
        let over = format!("\"{}a\"", "é".repeat((MAX_BYTES - 2) / 2));
        assert_eq!(over.len(), MAX_BYTES + 1);
        assert_eq!(
            check(&over),
            ["must be at most 262144 bytes as UTF-8, got 262145"]
        );
    }

    #[test]
    fn deep_nesting_is_checked_without_recursion() {
        // Skipping a value is iterative in serde_json, so the deepest input that fits the
        // size limit is accepted rather than overflowing the stack.
        let depth = MAX_BYTES / 2;
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(check(&deep).is_empty());
        let unbalanced = format!("{}{}", "[".repeat(depth), "]".repeat(depth - 1));
        assert_eq!(check(&unbalanced).len(), 1);
    }
}
