//! A synthetic knowledge base of any size, for benchmarks and scale tests: `n` articles of
//! about 400 words over 8 topics, 32 subtopics and 40 tags, with headings, lists, a table and
//! links to other articles, plus a few FAQ entries and events.

use std::fmt::Write as _;
use std::path::Path;

const WORDS: &[&str] = &[
    "till",
    "receipt",
    "payment",
    "refund",
    "stock",
    "supplier",
    "order",
    "label",
    "printer",
    "scanner",
    "network",
    "report",
    "customer",
    "invoice",
    "discount",
    "terminal",
    "cash",
    "drawer",
    "shift",
    "manager",
    "product",
    "barcode",
    "price",
    "margin",
    "export",
    "backup",
    "licence",
    "update",
    "screen",
    "session",
    "basket",
    "voucher",
    "loyalty",
    "delivery",
    "warehouse",
    "category",
    "department",
    "quantity",
    "balance",
    "settlement",
];

/// Writes a complete content folder with `n` articles into `dir`.
pub fn write_site(dir: &Path, n: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("kb"))?;
    std::fs::create_dir_all(dir.join("faq"))?;
    std::fs::create_dir_all(dir.join("calendar"))?;
    std::fs::write(
        dir.join("site.toml"),
        r#"title = "Synthetic Shop"
base_url = "https://help.example.com"
timezone = "Europe/London"
[contact]
address = ["1 Example Street", "Bristol"]
phones = [{ label = "Support", value = "+44 117 000 0000" }]
emails = [{ label = "Support", value = "help@example.com" }]
hours = [{ days = "Monday to Friday", hours = "09:00–17:00" }]
"#,
    )?;
    for i in 0..n {
        std::fs::write(
            dir.join("kb").join(format!("article-{i}.md")),
            article(i, n),
        )?;
    }
    for i in 0..20 {
        std::fs::write(
            dir.join("faq").join(format!("q{i}.md")),
            format!("+++\nquestion = \"How do I use the {} with a {}?\"\ncategory = \"Category {}\"\n+++\n{}\n", word(i), word(i + 3), i % 4, sentence(i, 30)),
        )?;
    }
    for i in 0..24 {
        std::fs::write(
            dir.join("calendar").join(format!("event-{i}.md")),
            format!("+++\ntitle = \"Seminar on {}\"\nstart = 2027-{:02}-{:02}T10:00\nend = 2027-{:02}-{:02}T12:00\nregistration = {{ capacity = 20 }}\n+++\n{}\n", word(i), i % 12 + 1, i % 27 + 1, i % 12 + 1, i % 27 + 1, sentence(i, 40)),
        )?;
    }
    Ok(())
}

fn word(i: usize) -> &'static str {
    WORDS[i % WORDS.len()]
}

fn sentence(seed: usize, len: usize) -> String {
    let mut s = String::new();
    let mut x = seed.wrapping_mul(2654435761) | 1;
    for k in 0..len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if k > 0 {
            s.push(' ');
        }
        s.push_str(word(x));
    }
    s.push('.');
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn article(i: usize, n: usize) -> String {
    let topic = i % 8;
    let subtopic = (i / 8) % 4;
    let mut s = String::with_capacity(3000);
    let _ = write!(
        s,
        "+++\ntitle = \"How to {} the {} {}\"\ntopic = \"Topic {topic}\"\nsubtopic = \"Subtopic {topic}.{subtopic}\"\ntags = [\"tag-{}\", \"tag-{}\"]\ndate = 2026-{:02}-{:02}\n+++\n",
        word(i),
        word(i / 3),
        i,
        i % 40,
        (i * 7) % 40,
        i % 12 + 1,
        i % 28 + 1
    );
    let _ = writeln!(s, "{}\n", sentence(i, 60));
    for h in 0..3 {
        let _ = writeln!(
            s,
            "## {} {}\n\n{}\n",
            word(i + h),
            word(i * 3 + h),
            sentence(i * 31 + h, 70)
        );
    }
    let _ = writeln!(
        s,
        "- {}\n- {}\n- see [a related article](/kb/article-{})\n",
        sentence(i + 1, 8),
        sentence(i + 2, 8),
        (i + 1) % n
    );
    let _ = writeln!(
        s,
        "| Setting | Value |\n|---|---|\n| {} | {} |\n| {} | {} |\n",
        word(i),
        i,
        word(i + 1),
        i * 2
    );
    let _ = writeln!(s, "{}", sentence(i * 17, 50));
    s
}
