//! Passwords: argon2id with m = 19,456 KiB, t = 2, p = 1 (OWASP's minimum), stored as PHC
//! strings; 8 to 128 characters, no composition rules, the most common ones refused.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::ApiError;

/// Memory cost in KiB.
pub const MEMORY_KIB: u32 = 19_456;
/// Iterations.
pub const ITERATIONS: u32 = 2;
/// Lanes.
pub const LANES: u32 = 1;
/// Shortest password, in characters.
pub const MIN_CHARS: usize = 8;
/// Longest password, in characters.
pub const MAX_CHARS: usize = 128;

static COMMON: &str = include_str!("common-passwords.txt");

fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(MEMORY_KIB, ITERATIONS, LANES, None).expect("valid argon2 parameters"),
    )
}

/// A hash of a password nobody has, checked when an address has no login so that an unknown
/// address takes as long as a wrong password.
static DUMMY: LazyLock<String> =
    LazyLock::new(|| hash_now("not a password anyone has").expect("hashing works"));

/// Computes the dummy hash now, on a thread of its own, so the first unknown address to log
/// in does not pay for it (which would tell it apart from a wrong password).
pub fn warm_up() {
    std::thread::spawn(|| LazyLock::force(&DUMMY));
}

/// Checks a new password against the rules; the error names `field`.
pub fn check_new(field: &str, password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        return Err(ApiError::invalid(
            field,
            format!("must be at least {MIN_CHARS} characters"),
        ));
    }
    if n > MAX_CHARS {
        return Err(ApiError::invalid(
            field,
            format!("must be at most {MAX_CHARS} characters"),
        ));
    }
    let lower = password.to_lowercase();
    if COMMON.lines().any(|c| c.to_lowercase() == lower) {
        return Err(ApiError::invalid(
            field,
            "is one of the most common passwords; choose another, such as a few unrelated words",
        ));
    }
    Ok(())
}

fn hash_now(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// The PHC string of `password` (on a blocking thread: it takes tens of milliseconds).
pub async fn hash(password: &str) -> Result<String, ApiError> {
    let p = password.to_string();
    tokio::task::spawn_blocking(move || hash_now(&p))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Internal)
}

/// Whether `password` matches `phc`; with `None`, checks against a dummy hash and answers
/// `false`, taking the same time.
pub async fn verify(password: &str, phc: Option<&str>) -> bool {
    let known = phc.is_some();
    let phc = phc.map(str::to_string).unwrap_or_else(|| DUMMY.clone());
    let p = password.to_string();
    let ok = tokio::task::spawn_blocking(move || match PasswordHash::new(&phc) {
        Ok(parsed) => argon2().verify_password(p.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    })
    .await
    .unwrap_or(false);
    ok && known
}

/// Hashes `password` synchronously, for seeding and the command line.
pub fn hash_blocking(password: &str) -> Result<String, String> {
    hash_now(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_length_and_commonness_only() {
        assert!(check_new("password", "correct horse").is_ok());
        assert!(check_new("password", "ab3$").is_err(), "too short");
        assert!(check_new("password", &"x".repeat(129)).is_err(), "too long");
        assert!(check_new("password", &"x".repeat(128)).is_ok());
        assert!(check_new("password", "Password123").is_err(), "common");
        assert!(
            check_new("password", "QWERTYUIOP").is_err(),
            "common in any case"
        );
        assert!(check_new("password", "ünïcödé pässwörd").is_ok());
    }

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_with_the_documented_cost() {
        let h = hash("correct horse battery").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", Some(&h)).await);
        assert!(!verify("wrong horse battery", Some(&h)).await);
        assert!(!verify("correct horse battery", None).await);
    }
}
