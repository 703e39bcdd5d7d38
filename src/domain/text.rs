//! Which characters free text may hold.

/// A control character other than tab, line feed and carriage return (which multi-line
/// free text such as a reason may hold), or an invisible formatting character that makes text
/// look like other text: zero-width space and joiners' kin, direction overrides and isolates,
/// the byte-order mark (a name that reads 王芳 but is not, a certificate number with a hidden
/// character).
pub fn is_forbidden_control(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(
            c,
            '\u{200B}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// A learner's name as HR sees it: the first character, the rest masked (王芳 → 王*).
pub fn masked_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.filter(|c| !c.is_whitespace()).count().clamp(1, 3);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}
