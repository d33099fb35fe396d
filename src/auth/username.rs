//! Username rules.
//!
//! A username is trimmed and NFKC-normalised (so full-width `ｂｏｂ` is `bob`
//! and a decomposed `café` is the composed one), 3 to 32 characters long, and
//! made of letters, digits, combining marks (Thai vowels and tone marks are
//! marks) and `_`, `.`, `-`, with at least one letter or digit. Every letter
//! must be allowed in identifiers by Unicode's security profile (UTS #39: no
//! fillers, invisible joiners or obsolete scripts), the name must be written
//! in one script (so a Cyrillic `а` cannot hide in a Latin name), and at most
//! two combining marks may stack on one character.
//!
//! Uniqueness is case-insensitive by full Unicode case folding:
//! [`Username::key`] is the form the database's UNIQUE index compares, so
//! `Alice`/`alice` and `STRASSE`/`straße` are one user.
//!
//! The error type is shared with the browser; the checks run on the server.

use serde::{Deserialize, Serialize};

/// Shortest allowed username, in characters.
pub const MIN_CHARS: usize = 3;
/// Longest allowed username, in characters.
pub const MAX_CHARS: usize = 32;
/// Most combining marks allowed on one base character (Thai needs two).
pub const MAX_STACKED_MARKS: usize = 2;

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
    /// Contains a character outside the allowed set, or too many stacked marks.
    #[error("Usernames may only contain letters, digits, '_', '.' and '-'.")]
    InvalidCharacter,
    /// Mixes scripts, e.g. Latin with Cyrillic look-alikes.
    #[error("Usernames must be written in one script.")]
    MixedScripts,
    /// Only punctuation.
    #[error("Usernames need at least one letter or digit.")]
    NoLetterOrDigit,
}

#[cfg(feature = "ssr")]
pub use rules::Username;

#[cfg(feature = "ssr")]
mod rules {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    use unicode_security::{GeneralSecurityProfile, MixedScript};

    use super::{MAX_CHARS, MAX_STACKED_MARKS, MIN_CHARS, UsernameError};

    /// A username that passed every rule; built only by [`Username::parse`].
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Username {
        display: String,
        key: String,
    }

    impl Username {
        /// Trims and normalises `raw`, then checks the rules; the display
        /// form keeps the user's case.
        pub fn parse(raw: &str) -> Result<Self, UsernameError> {
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                return Err(UsernameError::Empty);
            }
            // Refuse huge input before normalising it.
            if trimmed.len() > MAX_CHARS * 4 {
                return Err(UsernameError::TooLong);
            }
            let display: String = trimmed.nfkc().collect();

            check_characters(&display)?;
            let count = display.chars().count();
            if count < MIN_CHARS {
                return Err(UsernameError::TooShort);
            }
            if count > MAX_CHARS {
                return Err(UsernameError::TooLong);
            }
            if !display.as_str().is_single_script() {
                return Err(UsernameError::MixedScripts);
            }

            let key = caseless::default_case_fold_str(&display).nfkc().collect();
            Ok(Self { display, key })
        }

        /// The name as the user typed it (trimmed, NFKC-normalised).
        pub fn as_str(&self) -> &str {
            &self.display
        }

        /// The case-folded form that must be unique across users.
        pub fn key(&self) -> &str {
            &self.key
        }
    }

    fn check_characters(name: &str) -> Result<(), UsernameError> {
        // A mark needs a base character; at the start it would sit on
        // whatever the page shows before the name.
        if name.starts_with(is_combining_mark) {
            return Err(UsernameError::InvalidCharacter);
        }
        let mut stacked = 0;
        let mut has_alphanumeric = false;
        for c in name.chars() {
            if is_combining_mark(c) {
                stacked += 1;
                if stacked > MAX_STACKED_MARKS || !c.identifier_allowed() {
                    return Err(UsernameError::InvalidCharacter);
                }
                continue;
            }
            stacked = 0;
            if matches!(c, '_' | '.' | '-') {
                continue;
            }
            if !c.is_alphanumeric() || !c.identifier_allowed() {
                return Err(UsernameError::InvalidCharacter);
            }
            has_alphanumeric = true;
        }
        if has_alphanumeric {
            Ok(())
        } else {
            Err(UsernameError::NoLetterOrDigit)
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn key(name: &str) -> String {
        Username::parse(name).unwrap().key().to_owned()
    }

    #[test]
    fn trims_and_keeps_case_for_display() {
        let name = Username::parse("  Alice ").unwrap();
        assert_eq!(name.as_str(), "Alice");
        assert_eq!(name.key(), "alice");
    }

    #[test]
    fn case_variants_share_one_key_including_full_case_folding() {
        assert_eq!(key("ALICE"), key("alice"));
        assert_eq!(key("straße"), key("STRASSE"));
        assert_eq!(key("ΟΔΟΣ"), key("οδος"));
        assert_eq!(key("οδοσ"), key("οδος"), "final sigma folds to sigma");
    }

    #[test]
    fn width_and_composition_variants_are_the_same_name() {
        assert_eq!(Username::parse("ｂｏｂ").unwrap().as_str(), "bob");
        assert_eq!(key("cafe\u{301}"), key("café"));
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
    fn invisible_fillers_and_joiners_are_refused() {
        for bad in [
            "bob\u{34F}",
            "bob\u{3164}",
            "bob\u{FFA0}",
            "bob\u{115F}",
            "bob\u{1160}",
            "bo\u{200B}b",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn mixed_script_look_alikes_are_refused() {
        // Cyrillic а / о inside Latin names.
        assert_eq!(
            Username::parse("\u{430}dmin"),
            Err(UsernameError::MixedScripts)
        );
        assert_eq!(
            Username::parse("b\u{43E}b"),
            Err(UsernameError::MixedScripts)
        );
        assert!(
            Username::parse("иван").is_ok(),
            "a wholly Cyrillic name is fine"
        );
    }

    #[test]
    fn a_name_cannot_start_with_a_combining_mark() {
        assert_eq!(
            Username::parse("\u{301}abc"),
            Err(UsernameError::InvalidCharacter)
        );
    }

    #[test]
    fn stacked_combining_marks_are_limited() {
        assert!(Username::parse("กิ่ง").is_ok(), "two marks on one consonant");
        assert_eq!(
            Username::parse(&format!("ab{}", "\u{301}".repeat(30))),
            Err(UsernameError::InvalidCharacter)
        );
        assert_eq!(
            Username::parse("ro\u{338}\u{301}\u{300}ot"),
            Err(UsernameError::InvalidCharacter)
        );
    }

    #[test]
    fn punctuation_alone_is_not_a_name() {
        for bad in ["...", "---", "_._"] {
            assert_eq!(
                Username::parse(bad),
                Err(UsernameError::NoLetterOrDigit),
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
