//! The desk's second factor: time-based one-time passwords (RFC 6238: HMAC-SHA1, six digits,
//! 30-second steps), which any authenticator app makes from a secret it reads from a QR code.
//! A code is accepted one step early or late (clocks drift) and only once: the member
//! records the last step used.

use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per step.
const STEP: u64 = 30;

/// A new secret of 160 random bits (as RFC 4226 recommends), in base32 as apps show it.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

fn generator(secret: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_string()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, 1, STEP, bytes).ok()
}

/// The code for `secret` at Unix time `unix`.
pub fn code_at(secret: &str, unix: u64) -> Option<String> {
    Some(generator(secret)?.generate(unix))
}

/// The step at which `code` is right for `secret` around Unix time `unix` (one step either
/// way), if it is later than `last_step` (a code is good once).
pub fn accepted_step(secret: &str, code: &str, unix: u64, last_step: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = generator(secret)?;
    let now = unix / STEP;
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .filter(|step| *step > last_step)
        .find(|step| crate::guard::same_secret(&totp.generate(step * STEP), &code))
}

/// The `otpauth://` address an authenticator app reads (Google's Key URI format, which every
/// app follows): the business as issuer, the member's address as the account.
pub fn otpauth_url(secret: &str, issuer: &str, account: &str) -> String {
    // Everything but RFC 3986's unreserved characters.
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, RESERVED).to_string();
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period={STEP}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

/// `text` as a QR code, an SVG image to put in a page.
pub fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(220, 220)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's test vector for SHA-1 (secret "12345678901234567890"), cut to six digits.
    #[test]
    fn codes_follow_rfc_6238() {
        let secret = Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        assert_eq!(code_at(&secret, 59).as_deref(), Some("287082"));
        assert_eq!(code_at(&secret, 1_111_111_109).as_deref(), Some("081804"));
    }

    #[test]
    fn a_code_is_good_once_and_for_a_step_either_way() {
        let secret = new_secret();
        let t = 1_800_000_000;
        let code = code_at(&secret, t).unwrap();
        let step = accepted_step(&secret, &code, t + 30, 0).expect("a step late is fine");
        assert_eq!(step, t / 30);
        assert_eq!(accepted_step(&secret, &code, t, step), None, "used once");
        assert_eq!(accepted_step(&secret, &code, t + 90, 0), None, "too late");
        assert_eq!(accepted_step(&secret, "12345", t, 0), None);
    }

    #[test]
    fn the_qr_code_is_an_svg_of_the_address() {
        let url = otpauth_url("JBSWY3DPEHPK3PXP", "Acme & Co", "ann@example.com");
        assert!(url.starts_with(
            "otpauth://totp/Acme%20%26%20Co:ann%40example.com?secret=JBSWY3DPEHPK3PXP"
        ));
        assert!(qr_svg(&url).contains("<svg"));
    }
}
