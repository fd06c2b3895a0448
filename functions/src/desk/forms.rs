//! What the desk's forms share: amounts and whole numbers as people type them, and the
//! check on forms with numbered lines (invoices, quotes, reports). The form tokens are
//! taken out of a body before a handler reads it (`crate::input`), so these see only the
//! form's own fields.

use std::collections::HashMap;

use crate::error::ApiError;

/// Pounds and pence as a person types them (`12.50`, `1,200`, `-3`) in pence.
pub(crate) fn cents(field: &str, text: &str) -> Result<i64, ApiError> {
    let t: String = text.trim().trim_start_matches('£').replace(',', "");
    let bad = || ApiError::invalid(field, format!("`{text}` is not an amount such as 12.50"));
    let (sign, t) = match t.strip_prefix('-') {
        Some(rest) => (-1, rest.to_string()),
        None => (1, t),
    };
    let (whole, part) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty() && part.is_empty() || part.len() > 2 {
        return Err(bad());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let part: i64 = if part.is_empty() {
        0
    } else {
        format!("{part:0<2}").parse().map_err(|_| bad())?
    };
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(part))
        .map(|c| sign * c)
        .ok_or_else(bad)
}

/// A whole number from a form field, `default` when left empty; the error says the field
/// should be `what`.
pub(crate) fn number<T: std::str::FromStr>(
    field: &str,
    text: &str,
    default: T,
    what: &str,
) -> Result<T, ApiError> {
    match text.trim() {
        "" => Ok(default),
        t => t
            .parse()
            .map_err(|_| ApiError::invalid(field, format!("`{t}` is not {what}"))),
    }
}

/// Refuses a field that is not `{name}_{n}` for one of `names` and `n` from 1 to `most`:
/// the forms with numbered lines read their other fields by name, so anything else is a
/// mistake (a form from another version, a typing error in a client).
pub(crate) fn only_line_fields(
    fields: &HashMap<String, String>,
    names: &[&str],
    most: usize,
) -> Result<(), ApiError> {
    let known = |k: &str| {
        k.rsplit_once('_').is_some_and(|(name, n)| {
            names.contains(&name) && n.parse::<usize>().is_ok_and(|n| (1..=most).contains(&n))
        })
    };
    match fields.keys().find(|k| !known(k)) {
        Some(unknown) => Err(ApiError::invalid(unknown, "is not a field of this form")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::{cents, number};

    #[test]
    fn amounts_are_read_as_people_type_them() {
        assert_eq!(cents("a", "12.50").unwrap(), 1250);
        assert_eq!(cents("a", "£1,200").unwrap(), 120_000);
        assert_eq!(cents("a", "0.5").unwrap(), 50);
        assert_eq!(cents("a", "-3").unwrap(), -300);
        assert!(cents("a", "12.505").is_err());
        assert!(cents("a", "twelve").is_err());
        assert!(cents("a", "").is_err());
    }

    #[test]
    fn whole_numbers_default_when_left_empty() {
        assert_eq!(number::<u8>("p", " ", 7, "x").unwrap(), 7);
        assert_eq!(number::<u8>("p", "40", 0, "x").unwrap(), 40);
        assert!(number::<u8>("p", "lots", 0, "x").is_err());
    }
}
