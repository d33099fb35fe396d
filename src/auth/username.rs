//! Username rules, shared by the browser (for early hints) and the server (the
//! check that counts).
//!
//! A username is trimmed, 3 to 32 characters long, and made of Unicode letters,
//! combining marks (Thai vowels and tone marks are marks), decimal digits and
//! `_`, `.`, `-`. Uniqueness is case-insensitive: [`Username::key`] is the form
//! the database index compares.

use serde::{Deserialize, Serialize};

/// Shortest allowed username, in characters.
pub const MIN_CHARS: usize = 3;
/// Longest allowed username, in characters.
pub const MAX_CHARS: usize = 32;

/// Why a username was refused; each variant has one fixed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum UsernameError {
    /// Empty after trimming.
    #[error("Please enter a username.")]
    Empty,
    /// Fewer than [`MIN_CHARS`] characters.
    #[error("Usernames must be at least 3 characters long.")]
    TooShort,
    /// More than [`MAX_CHARS`] characters.
    #[error("Usernames can be at most 32 characters long.")]
    TooLong,
    /// Contains a character outside letters, digits and `_.-`.
    #[error("Usernames may only contain letters, digits, '_', '.' and '-'.")]
    InvalidCharacter,
}

/// A username that passed every rule. The only way to build one is [`Username::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    display: String,
    key: String,
}

impl Username {
    /// Trims `raw` and checks the rules; the display form keeps the user's case.
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(UsernameError::Empty);
        }
        // Refuse huge input before walking it character by character.
        if trimmed.len() > MAX_CHARS * 4 {
            return Err(UsernameError::TooLong);
        }
        if !trimmed.chars().all(is_allowed) {
            return Err(UsernameError::InvalidCharacter);
        }
        let count = trimmed.chars().count();
        if count < MIN_CHARS {
            return Err(UsernameError::TooShort);
        }
        if count > MAX_CHARS {
            return Err(UsernameError::TooLong);
        }
        Ok(Self {
            display: trimmed.to_owned(),
            key: trimmed.to_lowercase(),
        })
    }

    /// The name as the user typed it (trimmed).
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The case-folded form that must be unique across users.
    pub fn key(&self) -> &str {
        &self.key
    }
}

fn is_allowed(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-') || is_combining_mark(c)
}

/// Thai (and other scripts') vowel signs and tone marks are combining marks,
/// which `char::is_alphanumeric` does not count as letters.
fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{0E31}' | '\u{0E34}'..='\u{0E3A}' | '\u{0E47}'..='\u{0E4E}'
        | '\u{0900}'..='\u{0903}' | '\u{093A}'..='\u{094F}'
        | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_case_for_display() {
        let name = Username::parse("  Alice ").unwrap();
        assert_eq!(name.as_str(), "Alice");
        assert_eq!(name.key(), "alice");
    }

    #[test]
    fn different_case_gives_same_key() {
        let a = Username::parse("ALICE").unwrap();
        let b = Username::parse("alice").unwrap();
        assert_eq!(a.key(), b.key());
    }

    #[test]
    fn thai_names_are_allowed() {
        let name = Username::parse("สมชาย").unwrap();
        assert_eq!(name.as_str(), "สมชาย");
        assert!(Username::parse("น้ำใจ_2").is_ok());
    }

    #[test]
    fn length_bounds_count_characters_not_bytes() {
        assert_eq!(Username::parse("ab"), Err(UsernameError::TooShort));
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"ก".repeat(32)).is_ok());
        assert_eq!(
            Username::parse(&"ก".repeat(33)),
            Err(UsernameError::TooLong)
        );
        assert_eq!(
            Username::parse(&"a".repeat(1_000_000)),
            Err(UsernameError::TooLong)
        );
    }

    #[test]
    fn refuses_empty_spaces_controls_and_symbols() {
        assert_eq!(Username::parse("   "), Err(UsernameError::Empty));
        for bad in [
            "al ice",
            "bob\u{0}",
            "eve\n1",
            "a<b>c",
            "x@y.z",
            "semi;colon",
            "tab\tx",
        ] {
            assert_eq!(
                Username::parse(bad),
                Err(UsernameError::InvalidCharacter),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn allows_digits_and_punctuation_set() {
        for good in ["a_b", "a.b", "a-b", "007", "Jürgen"] {
            assert!(Username::parse(good).is_ok(), "{good:?}");
        }
    }
}
