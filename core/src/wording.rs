//! serde's and serde_json's messages in an admin's words: a file's value that has the wrong
//! type, a choice that does not exist, JSON that is cut off. Their wording (`invalid type:
//! string "abc", expected u16`, `EOF while parsing an object at line 2 column 0`) speaks of
//! Rust types and the parser; the import path shows this instead. Pure.

/// One serde/serde_json error message, reworded (its first line). Text it does not recognize,
/// and the project's own messages (`duplicate key "host" at line 1 column 9`), are kept as
/// they are.
pub fn plain(message: &str) -> String {
    let first = message.lines().next().unwrap_or_default();
    let (text, place) = split_place(first);
    let place = place.map(|(l, c)| format!(" (line {l}, column {c})")).unwrap_or_default();
    if let Some(rest) = text.strip_prefix("invalid type: ").or_else(|| text.strip_prefix("invalid value: ")) {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            return format!("must be {}, not {}{place}", expected_words(expected), found_words(found));
        }
    }
    if let Some(rest) = text.strip_prefix("unknown variant ") {
        if let Some((found, choices)) = rest.split_once(", expected one of ") {
            return format!("{} is not one of the choices: {}{place}", quoted(found), unticked(choices));
        }
        if let Some((found, choice)) = rest.split_once(", expected ") {
            return format!("{} is not a choice: the only one is {}{place}", quoted(found), unticked(choice));
        }
    }
    if let Some(rest) = text.strip_prefix("unknown field ") {
        let (found, known) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let known = known.trim_start_matches("one of ");
        return match known {
            "" | "nothing" => format!("{} is not a setting here{place}", quoted(found)),
            _ => format!("{} is not a setting here (the settings here: {}){place}", quoted(found), unticked(known)),
        };
    }
    if let Some(field) = text.strip_prefix("missing field ") {
        return format!("{} is missing{place}", unticked(field));
    }
    if let Some(rest) = text.strip_prefix("invalid length ") {
        if let Some((_, expected)) = rest.split_once(", expected ") {
            return format!("must be {}{place}", expected_words(expected));
        }
    }
    if text.starts_with("EOF while parsing") {
        return format!("the file ends too early{place}: it is cut off, or a closing bracket or quote is missing");
    }
    if text == "trailing characters" {
        return format!("there is more text after the end of the settings{place}");
    }
    if text == "expected value" {
        return format!("is not JSON: no value where one was expected{place}");
    }
    if text == "recursion limit exceeded" {
        return format!("is nested too deeply{place}");
    }
    if text.starts_with("control character") {
        return format!("a text value holds a line break or another control character; write it as \\n or \\t{place}");
    }
    if text == "number out of range" {
        return format!("a number is too large{place}");
    }
    first.to_string()
}

/// `… at line 3 column 7` → (`…`, Some((3, 7))).
fn split_place(text: &str) -> (&str, Option<(&str, &str)>) {
    if let Some((head, place)) = text.rsplit_once(" at line ") {
        if let Some((line, column)) = place.split_once(" column ") {
            if !line.is_empty() && !column.is_empty() && line.bytes().chain(column.bytes()).all(|b| b.is_ascii_digit()) {
                return (head, Some((line, column)));
            }
        }
    }
    (text, None)
}

/// What serde expected (`u16`, `a boolean`, `a sequence`, `struct ServerSettings`) in words.
fn expected_words(expected: &str) -> String {
    let whole = |max: &str| format!("a whole number from 0 to {max}");
    match expected.trim() {
        "u8" => whole("255"),
        "u16" => whole("65535"),
        "u32" => whole("4294967295"),
        "u64" | "usize" => whole("18446744073709551615"),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "a boolean" | "bool" => "true or false".into(),
        "a string" | "a borrowed string" | "string" | "char" | "a character" => "text in double quotes".into(),
        "a sequence" | "a tuple" => "a list in square brackets ([…])".into(),
        e if e.starts_with("a map") || e.starts_with("struct ") || e.starts_with("a struct") || e.starts_with("map") => {
            "an object in curly braces ({…})".into()
        }
        e if e.starts_with("enum ") || e.starts_with("variant ") => "one of the choices".into(),
        e => unticked(e),
    }
}

/// What serde found (`string "abc"`, `integer `70000``, `map`) in words.
fn found_words(found: &str) -> String {
    let found = found.trim();
    if let Some(s) = found.strip_prefix("string ") {
        return format!("the text {s}");
    }
    for prefix in ["integer ", "floating point "] {
        if let Some(n) = found.strip_prefix(prefix) {
            return format!("the number {}", unticked(n));
        }
    }
    if let Some(b) = found.strip_prefix("boolean ") {
        return unticked(b);
    }
    match found {
        "map" => "an object ({…})".into(),
        "sequence" => "a list ([…])".into(),
        "null" | "unit value" => "null".into(),
        other => unticked(other),
    }
}

fn unticked(text: &str) -> String {
    text.replace('`', "")
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.trim().trim_matches('`'))
}

#[cfg(test)]
mod tests {
    use super::plain;

    /// The messages serde_json really gives for these inputs, reworded.
    fn of<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
        plain(&serde_json::from_str::<T>(json).unwrap_err().to_string())
    }

    #[test]
    fn wrong_types_are_said_in_words() {
        assert_eq!(of::<u16>(r#""abc""#), r#"must be a whole number from 0 to 65535, not the text "abc" (line 1, column 5)"#);
        assert_eq!(of::<u16>("70000"), "must be a whole number from 0 to 65535, not the number 70000 (line 1, column 5)");
        assert_eq!(of::<u32>("-1"), "must be a whole number from 0 to 4294967295, not the number -1 (line 1, column 2)");
        assert_eq!(of::<bool>(r#""yes""#), r#"must be true or false, not the text "yes" (line 1, column 5)"#);
        assert_eq!(of::<Vec<String>>(r#""x""#), r#"must be a list in square brackets ([…]), not the text "x" (line 1, column 3)"#);
        assert_eq!(of::<String>("{}"), "must be text in double quotes, not an object ({…}) (line 1, column 0)");
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Sender {
            address: Option<String>,
            name: Option<String>,
        }
        assert_eq!(of::<Sender>(r#"{"adress": "x"}"#), r#""adress" is not a setting here (the settings here: address or name) (line 1, column 9)"#);
        assert_eq!(of::<crate::model::Security>(r#""ssl""#), r#""ssl" is not one of the choices: none, starttls, tls (line 1, column 5)"#);
        // Through a serde_json::Value (how import reads): no line and column.
        assert_eq!(plain(&serde_json::from_value::<u16>(serde_json::json!("abc")).unwrap_err().to_string()), r#"must be a whole number from 0 to 65535, not the text "abc""#);
    }

    #[test]
    fn broken_json_is_said_in_words() {
        assert_eq!(of::<serde_json::Value>(r#"{"a": "#), "the file ends too early (line 1, column 6): it is cut off, or a closing bracket or quote is missing");
        assert_eq!(of::<serde_json::Value>("{} }"), "there is more text after the end of the settings (line 1, column 4)");
        assert_eq!(of::<serde_json::Value>("x"), "is not JSON: no value where one was expected (line 1, column 1)");
        assert_eq!(of::<serde_json::Value>("\"a\nb\""), r"a text value holds a line break or another control character; write it as \n or \t (line 2, column 0)");
        // Anything else keeps its text.
        assert_eq!(of::<serde_json::Value>("{1: 2}"), "key must be a string at line 1 column 2");
        assert_eq!(plain("duplicate key \"host\" at line 1 column 9\nmore"), "duplicate key \"host\" at line 1 column 9");
        for said in [of::<u16>(r#""abc""#), of::<serde_json::Value>("{")] {
            for internal in ["u16", "EOF", "at line", "invalid type"] {
                assert!(!said.contains(internal), "{said}");
            }
        }
    }
}
