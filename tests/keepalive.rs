//! One keep-alive connection loses nothing: a client that reuses its connection gets an
//! answer to every request, refusals sent before their body was read among them (the server
//! reads the rest of such a body). A body the server cannot read in time announces that the
//! connection closes (`Connection: close`), so the client sends its next request on a new one
//! instead of into a closed socket.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One answer: its status and whether the server said the connection closes.
struct Answer {
    status: u16,
    closes: bool,
}

/// Reads one HTTP/1.1 answer (a `Content-Length` or a chunked body) from `conn`.
fn read_answer(conn: &mut BufReader<TcpStream>) -> Option<Answer> {
    let mut line = String::new();
    if conn.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let status = line.split_whitespace().nth(1)?.parse().ok()?;
    let (mut length, mut chunked, mut closes) = (0usize, false, false);
    loop {
        line.clear();
        conn.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        let (name, value) = (name.to_ascii_lowercase(), value.trim().to_ascii_lowercase());
        match name.as_str() {
            "content-length" => length = value.parse().ok()?,
            "transfer-encoding" => chunked = value.contains("chunked"),
            "connection" => closes = value.contains("close"),
            _ => {}
        }
    }
    if chunked {
        loop {
            line.clear();
            conn.read_line(&mut line).ok()?;
            let size = usize::from_str_radix(line.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            conn.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
        }
    } else {
        let mut body = vec![0; length];
        conn.read_exact(&mut body).ok()?;
    }
    Some(Answer { status, closes })
}

fn connect(addr: &str) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    BufReader::new(stream)
}

#[test]
fn ten_thousand_mixed_requests_on_one_connection_all_get_answers() {
    let limits =
        "posts_per_ip = 1000000\nposts_per_email = 1000000\napi_requests_per_minute = 1000000";
    let (_dir, server) = common::demo_site(limits, None, |_| {});
    let addr = server.base.trim_start_matches("http://").to_string();
    let json = r#"{"name": "A", "email": "a@example.com"}"#;
    // Over the limit of a public form (256 KiB), refused, and read to their end all the same.
    let (big, huge) = ("x".repeat(600 * 1024), "x".repeat(3 * 1024 * 1024));
    let request = |method: &str, path: &str, kind: &str, body: &str| {
        format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {kind}\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    // Each kind of request, with the status it must get.
    let mixed: Vec<(String, u16)> = vec![
        (format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n"), 200),
        (format!("GET /kb/ HTTP/1.1\r\nHost: {addr}\r\n\r\n"), 200),
        (
            format!("GET /api/track/not-a-token HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
            404,
        ),
        // Refused before the body is read: no key.
        (
            request("PUT", "/api/staff/customers/c-1", "application/json", json),
            401,
        ),
        // Refused before the body is read: a type no form sends.
        (request("POST", "/api/issues", "text/plain", "hello"), 415),
        // Read, then refused.
        (
            request("POST", "/api/issues", "application/json", "{not json"),
            400,
        ),
    ];
    let big = request("POST", "/api/issues", "application/json", &big);
    let huge = request("POST", "/api/issues", "application/json", &huge);

    let mut conn = connect(&addr);
    let (mut answered, mut reconnects, mut wrong) = (0, 0, Vec::new());
    for i in 0..10_000 {
        let (req, want) = if i % 500 == 499 {
            (&huge, 413)
        } else if i % 500 == 249 {
            (&big, 413)
        } else {
            let (r, s) = &mixed[i % mixed.len()];
            (r, *s)
        };
        conn.get_mut().write_all(req.as_bytes()).unwrap();
        let Some(answer) = read_answer(&mut conn) else {
            panic!("request {i} got no answer on a connection that was not announced closed");
        };
        answered += 1;
        if answer.status != want && wrong.len() < 10 {
            wrong.push((i, want, answer.status));
        }
        if answer.closes {
            reconnects += 1;
            conn = connect(&addr);
        }
    }
    assert_eq!(answered, 10_000);
    assert!(wrong.is_empty(), "(request, wanted, got): {wrong:?}");
    assert_eq!(reconnects, 0, "one connection served them all");
}
