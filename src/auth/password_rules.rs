//! Password length rules (no composition rules, as NIST SP 800-63B advises).

use serde::{Deserialize, Serialize};

/// Shortest allowed password, in characters.
pub const MIN_CHARS: usize = 8;
/// Longest allowed password, in characters; bounds the hashing input.
pub const MAX_CHARS: usize = 128;

/// Why a password was refused; each variant has one fixed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than [`MIN_CHARS`] characters.
    #[error("Passwords must be at least 8 characters long.")]
    TooShort,
    /// More than [`MAX_CHARS`] characters.
    #[error("Passwords can be at most 128 characters long.")]
    TooLong,
    /// Contains a control character (such as a NUL byte or a newline).
    #[error("Passwords may not contain control characters.")]
    ControlCharacter,
}

/// Checks a new password; runs before any hashing so huge input costs nothing.
pub fn check(password: &str) -> Result<(), PasswordError> {
    if password.len() > MAX_CHARS * 4 {
        return Err(PasswordError::TooLong);
    }
    if password.chars().any(char::is_control) {
        return Err(PasswordError::ControlCharacter);
    }
    let count = password.chars().count();
    if count < MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if count > MAX_CHARS {
        return Err(PasswordError::TooLong);
    }
    Ok(())
}

/// Whether a password given at login is worth hashing at all: one longer than
/// any we accept can never match, so it fails without spending a hash.
pub fn plausible_at_login(password: &str) -> bool {
    !password.is_empty() && password.len() <= MAX_CHARS * 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds() {
        assert_eq!(check("short"), Err(PasswordError::TooShort));
        assert_eq!(check("12345678"), Ok(()));
        assert_eq!(check(&"p".repeat(128)), Ok(()));
        assert_eq!(check(&"p".repeat(129)), Err(PasswordError::TooLong));
        assert_eq!(check(&"p".repeat(1_000_000)), Err(PasswordError::TooLong));
    }

    #[test]
    fn no_composition_rules_and_unicode_counts_characters() {
        assert_eq!(check("all lowercase words"), Ok(()));
        assert_eq!(check("รหัสผ่านยาว"), Ok(()));
    }

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(check("abc\0defgh"), Err(PasswordError::ControlCharacter));
        assert_eq!(check("abcdefgh\n"), Err(PasswordError::ControlCharacter));
    }

    #[test]
    fn absurd_login_input_is_not_hashed() {
        assert!(!plausible_at_login(""));
        assert!(!plausible_at_login(&"x".repeat(10_000)));
        assert!(plausible_at_login("anything"));
    }
}
