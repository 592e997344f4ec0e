//! Characters that change how text reads without being seen: bidirectional controls (a
//! right-to-left override makes `INC-2024-91` + U+202E + `19` read as another reference) and
//! zero-width characters (two references that look alike but differ). Names, codes and
//! references refuse them; free text keeps them, and printable pages and CSVs show them as their
//! code points.

use std::borrow::Cow;

/// Whether `c` is a bidirectional control or a zero-width (invisible formatting) character.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{061c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
    )
}

/// The message for a name, code or reference that holds such a character.
pub const INVISIBLE: &str = "contains a bidirectional control or zero-width character (such as U+202E or U+200B), which would let it read as another";

/// Text as a page or a CSV shows it: each invisible character written as its code point
/// (`<U+202E>`), so that it neither reorders what follows nor hides.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_invisible) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_invisible(c) {
            out.push_str(&format!("<U+{:04X}>", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_and_zero_widths_are_shown_not_obeyed() {
        assert!(is_invisible('\u{202e}') && is_invisible('\u{200b}') && is_invisible('\u{2067}'));
        assert!(!is_invisible('a') && !is_invisible('é') && !is_invisible('\n'));
        assert_eq!(visible("INC-1\u{202e}91"), "INC-1<U+202E>91");
        assert_eq!(visible("a\u{200b}b\u{feff}"), "a<U+200B>b<U+FEFF>");
        assert!(matches!(visible("plain"), Cow::Borrowed("plain")));
    }
}
