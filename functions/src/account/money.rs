//! Amounts of money as a customer reads them, and the lines of invoices and quotes.

use serde::Serialize;

/// An amount of money in pence and as text.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Money {
    /// In pence.
    pub cents: i64,
    /// As people read it: "£1,234.50".
    pub text: String,
}

impl Money {
    /// Pence as money.
    pub fn of(cents: i64) -> Money {
        let sign = if cents < 0 { "-" } else { "" };
        let c = cents.unsigned_abs();
        let pounds = (c / 100).to_string();
        let mut grouped = String::new();
        for (i, ch) in pounds.chars().enumerate() {
            if i > 0 && (pounds.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        Money {
            cents,
            text: format!("{sign}£{grouped}.{:02}", c % 100),
        }
    }
}

/// A line of an invoice or quote with its amounts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LineView {
    /// What it is.
    pub description: String,
    /// How many.
    pub quantity: i64,
    /// Price of one, before VAT.
    pub unit: Money,
    /// VAT rate in percent.
    pub vat_percent: i64,
    /// Quantity × price, before VAT.
    pub net: Money,
    /// VAT on it.
    pub vat: Money,
}

pub(super) fn lines(
    lines: &[portal_core::records::billing::Line],
) -> (Vec<LineView>, Money, Money, Money) {
    let (mut net_total, mut vat_total) = (0, 0);
    let views = lines
        .iter()
        .map(|l| {
            let (net, vat) = l.amounts();
            net_total += net;
            vat_total += vat;
            LineView {
                description: l.description.clone(),
                quantity: l.quantity,
                unit: Money::of(l.unit_cents),
                vat_percent: l.vat_percent,
                net: Money::of(net),
                vat: Money::of(vat),
            }
        })
        .collect();
    (
        views,
        Money::of(net_total),
        Money::of(vat_total),
        Money::of(net_total + vat_total),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_as_pounds() {
        assert_eq!(Money::of(12_345_678).text, "£123,456.78");
        assert_eq!(Money::of(5).text, "£0.05");
        assert_eq!(Money::of(-100_000).text, "-£1,000.00");
    }
}
