//! A counting proxy in front of the local DynamoDB API: every request the portal makes to the
//! table passes through it and is recorded by operation (`GetItem`, `Query`, …), so a test
//! counts the calls a page or a form post costs at the API itself, as AWS would bill them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// A proxy on a free loopback port that forwards to `upstream` (`http://host:port`).
pub struct CountingProxy {
    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub url: String,
    calls: Arc<Mutex<Vec<String>>>,
}

impl CountingProxy {
    /// Starts the proxy; it runs until the test process ends.
    pub fn start(upstream: &str) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = calls.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (upstream, seen) = (upstream.clone(), seen.clone());
                std::thread::spawn(move || {
                    let _ = serve(client, &upstream, &seen);
                });
            }
        });
        CountingProxy { url, calls }
    }

    /// The DynamoDB operations made since the last call, in order.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

/// One HTTP/1.1 message: its head (start line and headers) and body.
fn read_message(from: &mut BufReader<TcpStream>) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if from.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let length = header(&head, "content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    from.read_exact(&mut body)?;
    Ok(Some((head, body)))
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn serve(client: TcpStream, upstream: &str, seen: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut client = client;
    while let Some((head, body)) = read_message(&mut reader)? {
        if let Some(op) =
            header(&head, "x-amz-target").and_then(|t| t.strip_prefix("DynamoDB_20120810."))
        {
            if std::env::var_os("COUNTING_PROXY_DEBUG").is_some() {
                eprintln!("{op} {}", String::from_utf8_lossy(&body));
            }
            seen.lock().unwrap().push(op.to_string());
        }
        // One upstream connection per request: the local server may close after each answer.
        let mut up = TcpStream::connect(upstream)?;
        up.write_all(head.as_bytes())?;
        up.write_all(&body)?;
        let mut up_reader = BufReader::new(up);
        let Some((answer_head, answer_body)) = read_message(&mut up_reader)? else {
            return Ok(());
        };
        client.write_all(answer_head.as_bytes())?;
        client.write_all(&answer_body)?;
    }
    Ok(())
}
