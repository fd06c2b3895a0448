//! The staff desk, black-box over HTTP against `portal serve`, on the embedded store and on
//! DynamoDB: the first admin from `portal admin staff add`, activation, the second factor
//! (required for admins, a code good once, recovery codes), an agent added on the desk who
//! answers an issue filed through the public form, and every refusal — an agent on an
//! admin's screen, a stale form, a customer's cookie, a form without the session's token.

mod common;

use std::path::Path;

use common::{admin, Server};
use portal_functions::desk::totp;
use serde_json::Value;

const FORM: &str = "application/x-www-form-urlencoded";

/// Two tests of `$run(server, spec, outbox)`: on the embedded store and on DynamoDB.
macro_rules! on_both {
    ($name:ident, $table:literal, $run:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn on_the_embedded_store() {
                let (dir, server) = common::demo_site("", None, |_| {});
                let spec = format!(
                    "sqlite:{}",
                    dir.path().join("data").join("portal.db").display()
                );
                let run: fn(&Server, &str, &Path) = $run;
                run(&server, &spec, &dir.path().join("data").join("outbox"));
            }

            #[test]
            fn on_dynamodb() {
                let table = format!("dynamodb:{}-{}", $table, std::process::id());
                let (dir, server) = common::demo_site("", Some(&table), |_| {});
                let run: fn(&Server, &str, &Path) = $run;
                run(&server, &table, &dir.path().join("data").join("outbox"));
            }
        }
    };
}

/// A request: status, headers, body; redirects are not followed.
struct Answer {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The `name=value` of the desk's cookie this answer sets.
    fn desk_cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|v| v.starts_with("__Host-desk="))
    }

    /// The session's form token in the page.
    fn csrf(&self) -> String {
        value_of(&self.body, "csrf")
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

fn get(server: &Server, path: &str, cookie: &str) -> Answer {
    let mut r = agent().get(&format!("{}{path}", server.base));
    if !cookie.is_empty() {
        r = r.header("cookie", cookie);
    }
    let mut resp = r.call().expect("answered");
    Answer {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.body_mut().read_to_string().unwrap_or_default(),
    }
}

fn post(server: &Server, path: &str, cookie: &str, kind: &str, body: &str) -> Answer {
    let mut r = agent()
        .post(&format!("{}{path}", server.base))
        .header("content-type", kind)
        .header("sec-fetch-site", "same-origin");
    if !cookie.is_empty() {
        r = r.header("cookie", cookie);
    }
    let mut resp = r.send(body).expect("answered");
    Answer {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.body_mut().read_to_string().unwrap_or_default(),
    }
}

/// The value of the first form field `name` in `page` (a hidden or text input written
/// `name="…" value="…"`).
fn value_of(page: &str, name: &str) -> String {
    page.split(&format!(r#"name="{name}" value=""#))
        .nth(1)
        .unwrap_or_else(|| panic!("no field {name} in {page}"))
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

/// `application/x-www-form-urlencoded` of `fields`.
fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let enc = |s: &str| {
                s.bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                            (b as char).to_string()
                        }
                        b' ' => "+".to_string(),
                        _ => format!("%{b:02X}"),
                    })
                    .collect::<String>()
            };
            format!("{}={}", enc(k), enc(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A `multipart/form-data` body of text `fields` and one file: (content type, body).
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str)>) -> (String, String) {
    multipart_in(fields, "attachments", file)
}

/// As [`multipart`], the file in the field `field`.
fn multipart_in(
    fields: &[(&str, &str)],
    field: &str,
    file: Option<(&str, &str)>,
) -> (String, String) {
    let boundary = "deskboundary7MA4YWxkTrZu0gW";
    let mut body = String::new();
    for (k, v) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    if let Some((name, text)) = file {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n{text}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The current TOTP code for `secret`.
fn code(secret: &str) -> String {
    code_in(secret, 0)
}

/// The TOTP code for `secret` `seconds` from now.
fn code_in(secret: &str, seconds: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp::code_at(secret, now + seconds).unwrap()
}

/// Activates the member whose link was mailed to `email` with `password`.
fn activate(server: &Server, outbox: &Path, email: &str, password: &str) {
    // On DynamoDB the mail `portal admin` queued is sent by the server's mail task (every
    // 15 seconds).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !Server::mails(outbox)
        .iter()
        .any(|m| m.contains(&format!("To: {email}\r\n")))
    {
        assert!(std::time::Instant::now() < deadline, "no mail to {email}");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let token = Server::link_token(outbox, email, "/desk/activate/");
    let page = get(server, &format!("/desk/activate/{token}"), "");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(r#"action="/desk/activate""#),
        "{}",
        page.body
    );
    let done = post(
        server,
        "/desk/activate",
        "",
        FORM,
        &form(&[("token", &token), ("password", password)]),
    );
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), "/desk/login#activated");
    // The link is good once.
    let again = post(
        server,
        "/desk/activate",
        "",
        FORM,
        &form(&[("token", &token), ("password", password)]),
    );
    assert_eq!(again.status, 404, "{}", again.body);
}

/// Logs in: the answer, and the cookie (`name=value`) when one was set.
fn login(server: &Server, email: &str, password: &str, code: &str) -> (Answer, String) {
    let a = post(
        server,
        "/desk/login",
        "",
        FORM,
        &form(&[("email", email), ("password", password), ("code", code)]),
    );
    let cookie = a
        .desk_cookie()
        .map(|c| c.split(';').next().unwrap().to_string())
        .unwrap_or_default();
    (a, cookie)
}

fn desk_day(server: &Server, spec: &str, outbox: &Path) {
    // The first admin comes from the command line.
    let out = admin(
        spec,
        &[
            "staff",
            "add",
            "boss@kestrel-systems.co.uk",
            "--role",
            "admin",
            "--name",
            "Bea Boss",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = admin(
        spec,
        &[
            "staff",
            "add",
            "BOSS@kestrel-systems.co.uk",
            "--role",
            "agent",
        ],
    );
    assert!(
        !again.status.success(),
        "a second member for one address is refused"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("already a member of staff"));
    let wrong = admin(spec, &["staff", "add", "x@example.com", "--role", "owner"]);
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("not a role"));

    // After activation, the admin must set up an app first.
    activate(
        server,
        outbox,
        "boss@kestrel-systems.co.uk",
        "correct horse battery",
    );
    let (a, boss) = login(
        server,
        "boss@kestrel-systems.co.uk",
        "correct horse battery",
        "",
    );
    assert_eq!(
        (a.status, a.location()),
        (303, "/desk/security"),
        "{}",
        a.body
    );
    let set = a.desk_cookie().unwrap();
    for flag in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(flag), "{set} has {flag}");
    }
    let queue = get(server, "/desk/", &boss);
    assert_eq!((queue.status, queue.location()), (303, "/desk/security"));
    let security = get(server, "/desk/security", &boss);
    assert_eq!(security.status, 200, "{}", security.body);
    assert!(security.body.contains("<svg"), "a QR code");
    assert_eq!(
        security
            .headers
            .get("cache-control")
            .unwrap()
            .to_str()
            .unwrap(),
        "no-store"
    );
    let secret = value_of(&security.body, "secret");
    let csrf = security.csrf();
    let seal = value_of(&security.body, "seal");
    let wrong = post(
        server,
        "/desk/security/totp",
        &boss,
        FORM,
        &form(&[
            ("csrf", &csrf),
            ("secret", &secret),
            ("seal", &seal),
            ("code", "000000"),
        ]),
    );
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    // A secret of the member's own choosing (say, one the whole team shares) is refused.
    let chosen = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let forged = post(
        server,
        "/desk/security/totp",
        &boss,
        FORM,
        &form(&[
            ("csrf", &csrf),
            ("secret", chosen),
            ("seal", &seal),
            ("code", &code(chosen)),
        ]),
    );
    assert_eq!(forged.status, 422, "{}", forged.body);
    let enrolled = post(
        server,
        "/desk/security/totp",
        &boss,
        FORM,
        &form(&[
            ("csrf", &csrf),
            ("secret", &secret),
            ("seal", &seal),
            ("code", &code(&secret)),
        ]),
    );
    assert_eq!(enrolled.status, 200, "{}", enrolled.body);
    let recovery: Vec<String> = enrolled
        .body
        .split("<li><code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(recovery.len(), 10, "{}", enrolled.body);
    // The session opened with the password alone is over; the new one proved the code.
    assert_eq!(get(server, "/desk/", &boss).location(), "/desk/login");
    let boss = enrolled
        .desk_cookie()
        .map(|c| c.split(';').next().unwrap().to_string())
        .expect("a new session");
    assert_eq!(get(server, "/desk/", &boss).status, 200);

    // From now on the admin's login needs a code, good once; or a recovery code, good once.
    let out = post(
        server,
        "/desk/logout",
        &boss,
        FORM,
        &form(&[("csrf", &get(server, "/desk/", &boss).csrf())]),
    );
    assert_eq!(out.status, 303);
    assert_eq!(get(server, "/desk/", &boss).location(), "/desk/login");
    // Without the code, or with a wrong one, the answer is a wrong password's: a guessed
    // password is not confirmed.
    let (a, _) = login(
        server,
        "boss@kestrel-systems.co.uk",
        "correct horse battery",
        "",
    );
    assert_eq!(a.status, 401, "{}", a.body);
    let (b, _) = login(
        server,
        "boss@kestrel-systems.co.uk",
        "correct horse battery",
        "123456",
    );
    assert_eq!(b.status, 401, "{}", b.body);
    let (c, _) = login(
        server,
        "nobody@kestrel-systems.co.uk",
        "correct horse battery",
        "123456",
    );
    assert_eq!((c.status, &c.body), (401, &a.body));
    let (a, _) = login(
        server,
        "boss@kestrel-systems.co.uk",
        "correct horse battery",
        &recovery[0],
    );
    assert_eq!((a.status, a.location()), (303, "/desk/"), "{}", a.body);
    let (a, _) = login(
        server,
        "boss@kestrel-systems.co.uk",
        "correct horse battery",
        &recovery[0],
    );
    assert_eq!(a.status, 401, "a recovery code is good once: {}", a.body);
    // The code used for enrolment is spent; the app's next one (a step ahead is allowed for
    // clocks that drift) works.
    let (a, boss) = login(
        server,
        "boss@kestrel-systems.co.uk",
        "correct horse battery",
        &code_in(&secret, 30),
    );
    assert_eq!((a.status, a.location()), (303, "/desk/"), "{}", a.body);

    // New recovery codes, proved with an unused old one (the app's codes of this moment are
    // spent): shown once, and the old ones stop working.
    let codes_in = |page: &str| -> Vec<String> {
        page.split("<li><code>")
            .skip(1)
            .map(|s| s.split('<').next().unwrap().to_string())
            .collect()
    };
    // (A wrong code there counts as a wrong code at login does; the walk below sends one.)
    let csrf = get(server, "/desk/security", &boss).csrf();
    let renewed = post(
        server,
        "/desk/security/recovery",
        &boss,
        FORM,
        &form(&[("csrf", &csrf), ("code", &recovery[1])]),
    );
    assert_eq!(renewed.status, 200, "{}", renewed.body);
    assert!(renewed.body.contains("the old ones no longer work"));
    let fresh = codes_in(&renewed.body);
    assert_eq!(fresh.len(), 10, "{}", renewed.body);
    let boss = renewed
        .desk_cookie()
        .map(|c| c.split(';').next().unwrap().to_string())
        .expect("a new session");

    // Changing the password needs the one in use; it ends the member's other sessions.
    let (_, elsewhere) = login(
        server,
        "boss@kestrel-systems.co.uk",
        "correct horse battery",
        &fresh[0],
    );
    assert_eq!(get(server, "/desk/", &elsewhere).status, 200);
    let csrf = get(server, "/desk/security", &boss).csrf();
    let refused = post(
        server,
        "/desk/security/password",
        &boss,
        FORM,
        &form(&[
            ("csrf", &csrf),
            ("current", "incorrect horse battery"),
            ("password", "stapled paper clips"),
        ]),
    );
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("not your password now"),
        "{}",
        refused.body
    );
    let changed = post(
        server,
        "/desk/security/password",
        &boss,
        FORM,
        &form(&[
            ("csrf", &csrf),
            ("current", "correct horse battery"),
            ("password", "stapled paper clips"),
        ]),
    );
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert!(changed.body.contains("Your password is changed"));
    let boss = changed
        .desk_cookie()
        .map(|c| c.split(';').next().unwrap().to_string())
        .expect("a new session");
    assert_eq!(get(server, "/desk/", &boss).status, 200);
    assert_eq!(get(server, "/desk/", &elsewhere).location(), "/desk/login");
    let (a, _) = login(
        server,
        "boss@kestrel-systems.co.uk",
        "stapled paper clips",
        &recovery[2],
    );
    assert_eq!(a.status, 401, "an old recovery code: {}", a.body);
    let (a, boss) = login(
        server,
        "boss@kestrel-systems.co.uk",
        "stapled paper clips",
        &fresh[1],
    );
    assert_eq!((a.status, a.location()), (303, "/desk/"), "{}", a.body);

    // The admin adds an agent on the desk, who is mailed a link.
    let staff = get(server, "/desk/staff", &boss);
    assert_eq!(staff.status, 200, "{}", staff.body);
    assert!(staff.body.contains("boss@kestrel-systems.co.uk"));
    let added = post(
        server,
        "/desk/staff",
        &boss,
        FORM,
        &form(&[
            ("csrf", &staff.csrf()),
            ("email", "ann@kestrel-systems.co.uk"),
            ("name", "Ann Agent"),
            ("role", "agent"),
        ]),
    );
    assert_eq!(
        (added.status, added.location()),
        (303, "/desk/staff"),
        "{}",
        added.body
    );
    let (a, _) = login(
        server,
        "ann@kestrel-systems.co.uk",
        "tea kettle whistle",
        "",
    );
    assert_eq!(a.status, 401, "no login before activation: {}", a.body);
    activate(
        server,
        outbox,
        "ann@kestrel-systems.co.uk",
        "tea kettle whistle",
    );
    let (a, ann) = login(
        server,
        "ann@kestrel-systems.co.uk",
        "tea kettle whistle",
        "",
    );
    assert_eq!(
        (a.status, a.location()),
        (303, "/desk/"),
        "an agent needs no second factor by default: {}",
        a.body
    );

    // A visitor files an issue through the public form; the agent finds it in the queue.
    let (status, _, body) = server.post(
        "/api/issues",
        "application/json",
        r#"{"name": "Vera Visitor", "email": "vera@example.com", "subject": "Till drawer stuck", "description": "It will not open."}"#,
    );
    assert_eq!(status, 201, "{body}");
    let filed: Value = serde_json::from_str(&body).unwrap();
    let number = filed["number"].as_str().unwrap().to_string();
    let token = common::tracking_token(&filed);
    let queue = get(server, "/desk/?view=unassigned", &ann);
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert!(
        queue.body.contains(&format!("/desk/issues/{number}")),
        "{}",
        queue.body
    );
    assert!(queue.body.contains("Till drawer stuck"));
    let mine = get(server, "/desk/?view=mine", &ann);
    assert!(!mine.body.contains(&number), "not assigned to her yet");
    assert!(get(server, "/desk/?q=drawer", &ann).body.contains(&number));
    assert!(!get(server, "/desk/?q=printer", &ann).body.contains(&number));

    // She replies with a file, and notes something the visitor must not see.
    let page = get(server, &format!("/desk/issues/{number}"), &ann);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("It will not open."));
    let csrf = page.csrf();
    let (kind, body) = multipart(
        &[
            ("csrf", &csrf),
            ("body", "Press the release under the till; it opens."),
        ],
        Some(("steps.txt", "1. Lift. 2. Press.")),
    );
    let replied = post(
        server,
        &format!("/desk/issues/{number}/replies"),
        &ann,
        &kind,
        &body,
    );
    assert_eq!(replied.status, 303, "{}", replied.body);
    let (kind, body) = multipart(
        &[
            ("csrf", &csrf),
            ("body", "Third till this month: ask the vendor."),
        ],
        None,
    );
    let noted = post(
        server,
        &format!("/desk/issues/{number}/notes"),
        &ann,
        &kind,
        &body,
    );
    assert_eq!(noted.status, 303, "{}", noted.body);
    // The queue's search reads the description and the notes, internal ones included.
    for words in ["will NOT open", "vendor till", "release under"] {
        let found = get(
            server,
            &format!("/desk/?q={}", words.replace(' ', "+")),
            &ann,
        );
        assert!(found.body.contains(&number), "{words}: {}", found.body);
    }
    assert!(!get(server, "/desk/?q=vendor+printer", &ann)
        .body
        .contains(&number));
    let long = get(server, &format!("/desk/?q={}", "a".repeat(201)), &ann);
    assert_eq!(long.status, 422, "{}", long.body);
    assert!(
        long.body.contains("at most 200 characters"),
        "{}",
        long.body
    );

    // She takes it and sets its status; the visitor's tracking page shows reply and status.
    let page = get(server, &format!("/desk/issues/{number}"), &ann);
    assert!(page.body.contains("Internal note"), "{}", page.body);
    assert!(page.body.contains("steps.txt"));
    assert!(
        page.body.contains("Tracking link</dt><dd>not opened yet"),
        "{}",
        page.body
    );
    let version = value_of(&page.body, "version");
    let changed = post(
        server,
        &format!("/desk/issues/{number}"),
        &ann,
        FORM,
        &form(&[
            ("csrf", &csrf),
            ("version", &version),
            ("status", "waiting on customer"),
            ("assignee", "ann@kestrel-systems.co.uk"),
            ("category", "Hardware"),
        ]),
    );
    assert_eq!(changed.status, 303, "{}", changed.body);
    let (status, _, body) = server.get(&format!("/api/track/{token}"));
    assert_eq!(status, 200, "{body}");
    let tracked: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(tracked["status"], "waiting on customer", "{tracked}");
    let text = tracked.to_string();
    assert!(text.contains("Press the release under the till"), "{text}");
    assert!(
        !text.contains("ask the vendor"),
        "an internal note stays inside: {text}"
    );
    // The agent sees that the visitor has opened the tracking link since.
    let page = get(server, &format!("/desk/issues/{number}"), &ann);
    assert!(
        page.body.contains("Tracking link</dt><dd>last opened "),
        "{}",
        page.body
    );
    let mails = Server::mails(outbox);
    assert!(
        mails.iter().any(|m| m.contains("To: vera@example.com")
            && m.contains("Press the release under the till")),
        "the reply was mailed"
    );
    assert!(get(server, "/desk/?view=mine", &ann).body.contains(&number));
    assert!(get(server, "/desk/?view=waiting", &ann)
        .body
        .contains(&number));

    // A form made before that change (the old version) changes nothing and says why.
    let stale = post(
        server,
        &format!("/desk/issues/{number}"),
        &boss,
        FORM,
        &form(&[
            ("csrf", &get(server, "/desk/", &boss).csrf()),
            ("version", &version),
            ("status", "closed"),
            ("assignee", ""),
        ]),
    );
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert!(
        stale
            .body
            .contains("someone changed this issue since you opened it"),
        "{}",
        stale.body
    );
    let (_, _, body) = server.get(&format!("/api/track/{token}"));
    assert!(
        body.contains("waiting on customer"),
        "nothing overwritten: {body}"
    );

    // Refusals: an agent on an admin's screen, a form without the session's token, another
    // session's token, no session, a customer's session.
    let refused = get(server, "/desk/staff", &ann);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(!refused.body.contains("Add a member of staff"));
    let refused = post(
        server,
        "/desk/staff",
        &ann,
        FORM,
        &form(&[
            ("csrf", &csrf),
            ("email", "mallory@example.com"),
            ("role", "admin"),
        ]),
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    let (kind, body) = multipart(&[("body", "no token")], None);
    let refused = post(
        server,
        &format!("/desk/issues/{number}/notes"),
        &ann,
        &kind,
        &body,
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    let boss_token = get(server, "/desk/", &boss).csrf();
    let (kind, body) = multipart(
        &[("csrf", &boss_token), ("body", "someone else's token")],
        None,
    );
    let refused = post(
        server,
        &format!("/desk/issues/{number}/notes"),
        &ann,
        &kind,
        &body,
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    let anonymous = get(server, &format!("/desk/issues/{number}"), "");
    assert_eq!(
        (anonymous.status, anonymous.location()),
        (303, "/desk/login")
    );
    let (kind, body) = multipart(&[("body", "who am I")], None);
    let refused = post(
        server,
        &format!("/desk/issues/{number}/notes"),
        "",
        &kind,
        &body,
    );
    assert_eq!(refused.status, 401, "{}", refused.body);
    let customer = customer_session(server, "ada@harbour-cafe.example", "harbour cafe demo");
    let refused = get(server, "/desk/", &customer);
    assert_eq!((refused.status, refused.location()), (303, "/desk/login"));
    let (kind, body) = multipart(&[("body", "a customer on the desk")], None);
    let refused = post(
        server,
        &format!("/desk/issues/{number}/notes"),
        &customer,
        &kind,
        &body,
    );
    assert_eq!(refused.status, 401, "{}", refused.body);
    // Nor does the desk's cookie open the customer area.
    assert_eq!(get(server, "/my/", &ann).location(), "/login");
    let page = get(server, &format!("/desk/issues/{number}"), &ann);
    assert_eq!(
        page.body.matches("Third till this month").count(),
        1,
        "one note, no refused one"
    );

    // Disabling a member ends their sessions at once.
    let staff = get(server, "/desk/staff", &boss);
    let disabled = post(
        server,
        "/desk/staff/ann@kestrel-systems.co.uk",
        &boss,
        FORM,
        &form(&[("csrf", &staff.csrf()), ("disabled", "true")]),
    );
    assert_eq!(disabled.status, 303, "{}", disabled.body);
    assert_eq!(get(server, "/desk/", &ann).location(), "/desk/login");
    let (a, _) = login(
        server,
        "ann@kestrel-systems.co.uk",
        "tea kettle whistle",
        "",
    );
    assert_eq!(a.status, 401, "{}", a.body);
    let own = post(
        server,
        "/desk/staff/boss@kestrel-systems.co.uk",
        &boss,
        FORM,
        &form(&[("csrf", &staff.csrf()), ("disabled", "true")]),
    );
    assert_eq!(
        own.status, 409,
        "an admin cannot lock themselves out: {}",
        own.body
    );

    // A locked-out member gets help from an admin: enabled again, a new password link (the
    // old password stops working), never for oneself.
    let staff = get(server, "/desk/staff", &boss);
    let enable = post(
        server,
        "/desk/staff/ann@kestrel-systems.co.uk",
        &boss,
        FORM,
        &form(&[("csrf", &staff.csrf()), ("disabled", "false")]),
    );
    assert_eq!(enable.status, 303, "{}", enable.body);
    let help = post(
        server,
        "/desk/staff/ann%40kestrel-systems.co.uk/help",
        &boss,
        FORM,
        &form(&[("csrf", &staff.csrf()), ("what", "password")]),
    );
    assert_eq!(help.status, 303, "{}", help.body);
    let (a, _) = login(
        server,
        "ann@kestrel-systems.co.uk",
        "tea kettle whistle",
        "",
    );
    assert_eq!(a.status, 401, "the old password no longer works");
    let token = Server::link_token(outbox, "ann@kestrel-systems.co.uk", "/desk/activate/");
    let set = post(
        server,
        "/desk/activate",
        "",
        FORM,
        &form(&[("token", &token), ("password", "a brand new kettle")]),
    );
    assert_eq!(set.status, 303, "{}", set.body);
    let (a, _) = login(
        server,
        "ann@kestrel-systems.co.uk",
        "a brand new kettle",
        "",
    );
    assert_eq!(a.status, 303, "{}", a.body);
    let own = post(
        server,
        "/desk/staff/boss%40kestrel-systems.co.uk/help",
        &boss,
        FORM,
        &form(&[("csrf", &staff.csrf()), ("what", "second_factor")]),
    );
    assert_eq!(own.status, 409, "{}", own.body);

    // The CLI lists them; the audit log names who did what.
    let out = admin(spec, &["staff", "list"]);
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.contains("ann@kestrel-systems.co.uk\tAnn Agent\tagent\tactive"),
        "{list}"
    );
    assert!(
        list.contains("boss@kestrel-systems.co.uk\tBea Boss\tadmin\tactive, second factor"),
        "{list}"
    );
}

on_both!(a_day_on_the_desk, "desk", desk_day);

/// Logs a customer in to the customer area: the session cookie (`name=value`).
fn customer_session(server: &Server, email: &str, password: &str) -> String {
    let (status, headers, body) = server.post(
        "/api/auth/login",
        "application/json",
        &serde_json::json!({ "email": email, "password": password }).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("__Host-portal="))
        .unwrap()
}

/// Adds a member with `role` from the command line, activates them and logs them in.
fn member(server: &Server, spec: &str, outbox: &Path, email: &str, role: &str) -> String {
    let out = admin(spec, &["staff", "add", email, "--role", role]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    activate(server, outbox, email, "a long enough password");
    let (a, cookie) = login(server, email, "a long enough password", "");
    assert_eq!((a.status, a.location()), (303, "/desk/"), "{}", a.body);
    cookie
}

fn onboarding(server: &Server, spec: &str, outbox: &Path) {
    let max = member(server, spec, outbox, "max@kestrel-systems.co.uk", "manager");
    let ann = member(server, spec, outbox, "ann@kestrel-systems.co.uk", "agent");

    // The manager opens an account, invites its owner, publishes an invoice, records a
    // payment.
    let list = get(server, "/desk/customers", &max);
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body.contains("Harbour Café"),
        "the demo customers are listed"
    );
    let created = post(
        server,
        "/desk/customers",
        &max,
        FORM,
        &form(&[
            ("csrf", &list.csrf()),
            ("id", "C-77"),
            ("number", "77"),
            ("name", "Gull Bakery"),
            ("email", "accounts@gull-bakery.example"),
        ]),
    );
    assert_eq!(
        (created.status, created.location()),
        (303, "/desk/customers/C-77"),
        "{}",
        created.body
    );
    let again = post(
        server,
        "/desk/customers",
        &max,
        FORM,
        &form(&[
            ("csrf", &list.csrf()),
            ("id", "C-77"),
            ("number", "1"),
            ("name", "Other"),
            ("email", "o@example.com"),
        ]),
    );
    assert_eq!(
        again.status, 409,
        "an id in use is refused, nothing overwritten: {}",
        again.body
    );
    assert!(get(server, "/desk/customers?q=gull", &max)
        .body
        .contains("/desk/customers/C-77"));
    let page = get(server, "/desk/customers/C-77", &max);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Gull Bakery") && page.body.contains("No invoices yet."));
    let csrf = page.csrf();
    let invited = post(
        server,
        "/desk/customers/C-77/logins",
        &max,
        FORM,
        &form(&[
            ("csrf", &csrf),
            ("email", "gwen@gull-bakery.example"),
            ("name", "Gwen Gull"),
        ]),
    );
    assert_eq!(invited.status, 303, "{}", invited.body);
    let field = |page: &Answer, name: &str| {
        page.body
            .split(&format!(
                r#"name="{name}" type="text" required maxlength="64" value=""#
            ))
            .nth(1)
            .or_else(|| page.body.split(&format!(r#"name="{name}" value=""#)).nth(1))
            .unwrap_or_else(|| panic!("no {name} in {}", page.body))
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    let invoice_id = field(&page, "id");
    let published = post(
        server,
        "/desk/customers/C-77/invoices",
        &max,
        FORM,
        &form(&[
            ("csrf", &csrf),
            ("id", &invoice_id),
            ("number", "INV-7701"),
            ("date", "2026-12-01"),
            ("due", "2026-12-31"),
            ("status", "open"),
            ("description_1", "Till rental, December"),
            ("quantity_1", "2"),
            ("price_1", "25.00"),
            ("vat_1", "20"),
            ("description_2", ""),
            ("quantity_2", "1"),
            ("price_2", ""),
            ("vat_2", "20"),
        ]),
    );
    assert_eq!(published.status, 303, "{}", published.body);
    let bad = post(
        server,
        "/desk/customers/C-77/invoices",
        &max,
        FORM,
        &form(&[
            ("csrf", &csrf),
            ("id", "INV-X"),
            ("number", "X"),
            ("date", "2026-12-01"),
            ("due", "2026-12-31"),
            ("status", "open"),
            ("description_1", "Thing"),
            ("price_1", "twelve"),
        ]),
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        bad.body.contains("price 1"),
        "the field is named: {}",
        bad.body
    );
    let pay_id = page
        .body
        .split(r#"<input type="hidden" name="id" value=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let paid = post(
        server,
        "/desk/customers/C-77/payments",
        &max,
        FORM,
        &form(&[
            ("csrf", &csrf),
            ("id", &pay_id),
            ("date", "2026-12-02"),
            ("amount", "20.00"),
            ("method", "bank transfer"),
            ("invoice_id", &invoice_id),
        ]),
    );
    assert_eq!(paid.status, 303, "{}", paid.body);
    // The same form sent twice records the payment once.
    let twice = post(
        server,
        "/desk/customers/C-77/payments",
        &max,
        FORM,
        &form(&[
            ("csrf", &csrf),
            ("id", &pay_id),
            ("date", "2026-12-02"),
            ("amount", "20.00"),
            ("method", "bank transfer"),
            ("invoice_id", &invoice_id),
        ]),
    );
    assert_eq!(twice.status, 303, "{}", twice.body);
    let page = get(server, "/desk/customers/C-77", &max);
    assert!(
        page.body.contains("INV-7701") && page.body.contains("£60.00"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<strong>£40.00</strong>"),
        "60 invoiced, 20 paid once: {}",
        page.body
    );
    assert!(page.body.contains("gwen@gull-bakery.example") && page.body.contains("invited"));

    // Lost the mail? The invitation goes again, from the same screen.
    assert!(
        page.body.contains("Send the invitation again"),
        "{}",
        page.body
    );
    let before = Server::mails(outbox).len();
    let again = post(
        server,
        "/desk/customers/C-77/logins",
        &max,
        FORM,
        &form(&[
            ("csrf", &page.csrf()),
            ("email", "gwen@gull-bakery.example"),
        ]),
    );
    assert_eq!(again.status, 303, "{}", again.body);
    assert!(Server::mails(outbox)[before..]
        .iter()
        .any(|m| m.contains("To: gwen@gull-bakery.example")));

    // The invited person activates the login and sees the invoice and the balance.
    let token = Server::link_token(outbox, "gwen@gull-bakery.example", "/activate/");
    let (status, _, body) = server.post(
        "/api/auth/activate",
        "application/json",
        &format!(r#"{{"token": "{token}", "password": "fresh bread daily"}}"#),
    );
    assert_eq!(status, 200, "{body}");
    let gwen = customer_session(server, "gwen@gull-bakery.example", "fresh bread daily");
    let account = get(server, "/api/my/account", &gwen);
    assert!(
        account.body.contains("Gull Bakery") && account.body.contains("4000"),
        "{}",
        account.body
    );
    assert!(get(server, "/api/my/invoices", &gwen)
        .body
        .contains("INV-7701"));

    // A quote published on the desk reaches the customer, whose decision the desk shows.
    let page = get(server, "/desk/customers/C-77", &max);
    assert!(page.body.contains("No quotes yet."), "{}", page.body);
    let quoted = post(
        server,
        "/desk/customers/C-77/quotes",
        &max,
        FORM,
        &form(&[
            ("csrf", &page.csrf()),
            ("id", "Q-77-1"),
            ("number", "Q-7701"),
            ("date", "2026-12-02"),
            ("valid_until", "2027-01-31"),
            ("description_1", "Second till, installed"),
            ("quantity_1", "1"),
            ("price_1", "850.00"),
            ("vat_1", "20"),
            ("description_6", "Cable kit"),
            ("quantity_6", "2"),
            ("price_6", "10.00"),
            ("vat_6", "20"),
        ]),
    );
    assert_eq!(quoted.status, 303, "{}", quoted.body);
    let quote = get(server, "/api/my/quotes/Q-77-1", &gwen).body;
    assert!(
        quote.contains("Second till, installed") && quote.contains("Cable kit"),
        "a line further down the form is kept: {quote}"
    );
    let stray = post(
        server,
        "/desk/customers/C-77/quotes",
        &max,
        FORM,
        &form(&[
            ("csrf", &page.csrf()),
            ("id", "Q-77-2"),
            ("number", "Q-7702"),
            ("date", "2026-12-02"),
            ("valid_until", "2027-01-31"),
            ("description_1", "Thing"),
            ("price_1", "1.00"),
            ("description_9", "Past the last line"),
        ]),
    );
    assert_eq!(stray.status, 422, "{}", stray.body);
    assert!(stray.body.contains("description 9"), "{}", stray.body);
    let (status, _, body) = server.post_with(
        "/api/my/quotes/Q-77-1/decision",
        "application/json",
        r#"{"decision": "accept"}"#,
        &[("cookie", gwen.as_str())],
    );
    assert_eq!(status, 200, "{body}");
    let page = get(server, "/desk/customers/C-77", &max);
    assert!(
        page.body.contains("Q-7701") && page.body.contains("accepted"),
        "{}",
        page.body
    );

    // A project with a task the customer sees and one they do not, a note each way, a
    // timesheet and a document, all from the desk; the customer sees what is theirs to see.
    let csrf = page.csrf();
    let started = post(
        server,
        "/desk/customers/C-77/projects",
        &max,
        FORM,
        &form(&[
            ("csrf", &csrf),
            ("id", "P-77"),
            ("name", "New shop fit-out"),
            ("status", "planned"),
            ("description", "Tills and shelves for the second shop."),
        ]),
    );
    assert_eq!(
        (started.status, started.location()),
        (303, "/desk/customers/C-77/projects/P-77"),
        "{}",
        started.body
    );
    for (id, title, progress, hidden) in [
        ("T-1", "Fit the shelves", "40", false),
        ("T-2", "Chase the carpenter's invoice", "0", true),
    ] {
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("id", id),
            ("title", title),
            ("progress", progress),
            ("position", "10"),
        ];
        if hidden {
            fields.push(("hidden", "on"));
        }
        let task = post(
            server,
            "/desk/customers/C-77/projects/P-77/tasks",
            &max,
            FORM,
            &form(&fields),
        );
        assert_eq!(task.status, 303, "{}", task.body);
    }
    let bad = post(
        server,
        "/desk/customers/C-77/projects/P-77/tasks",
        &max,
        FORM,
        &form(&[
            ("csrf", &csrf),
            ("id", "T-3"),
            ("title", "x"),
            ("progress", "lots"),
        ]),
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("progress"), "{}", bad.body);
    for (body, hidden) in [
        ("Shelves arrive Monday.", false),
        ("Carpenter is slow.", true),
    ] {
        let mut fields = vec![("csrf", csrf.as_str()), ("body", body)];
        if hidden {
            fields.push(("hidden", "on"));
        }
        let noted = post(
            server,
            "/desk/customers/C-77/projects/P-77/notes",
            &max,
            FORM,
            &form(&fields),
        );
        assert_eq!(noted.status, 303, "{}", noted.body);
    }
    let project = get(server, "/desk/customers/C-77/projects/P-77", &max);
    assert_eq!(project.status, 200, "{}", project.body);
    for text in [
        "New shop fit-out",
        "Fit the shelves",
        "40%",
        "no (hidden)",
        "Carpenter is slow.",
        "Internal note",
    ] {
        assert!(project.body.contains(text), "{text}: {}", project.body);
    }
    let reported = post(
        server,
        "/desk/customers/C-77/reports",
        &max,
        FORM,
        &form(&[
            ("csrf", &csrf),
            ("id", "R-77"),
            ("kind", "timesheet"),
            ("title", "November 2026"),
            ("date", "2026-11-30"),
            ("description_1", "Survey"),
            ("quantity_1", "1.5"),
            ("date_2", "2026-11-20"),
            ("description_2", "Drawings"),
            ("quantity_2", "2"),
        ]),
    );
    assert_eq!(reported.status, 303, "{}", reported.body);
    let (kind, body) = multipart_in(
        &[
            ("csrf", &csrf),
            ("id", "D-77"),
            ("title", "Floor plan"),
            ("date", "2026-12-01"),
        ],
        "file",
        Some(("floor-plan.txt", "Shop floor: 8 m by 5 m.")),
    );
    let shared = post(server, "/desk/customers/C-77/documents", &max, &kind, &body);
    assert_eq!(shared.status, 303, "{}", shared.body);
    let page = get(server, "/desk/customers/C-77", &max);
    for text in [
        "/desk/customers/C-77/projects/P-77",
        "November 2026",
        "3.50 h",
        "Floor plan",
        "floor-plan.txt",
    ] {
        assert!(page.body.contains(text), "{text}: {}", page.body);
    }
    let seen = get(server, "/api/my/projects/P-77", &gwen);
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert!(
        seen.body.contains("Fit the shelves") && seen.body.contains("Shelves arrive Monday."),
        "{}",
        seen.body
    );
    assert!(
        !seen.body.contains("carpenter") && !seen.body.contains("Carpenter"),
        "hidden tasks and internal notes stay on the desk: {}",
        seen.body
    );
    let reports = get(server, "/api/my/reports", &gwen);
    assert!(reports.body.contains("November 2026"), "{}", reports.body);
    let documents = get(server, "/api/my/documents", &gwen);
    assert!(documents.body.contains("Floor plan"), "{}", documents.body);

    // "View as this customer": the login's own account page, read-only, audited.
    let page = get(server, "/desk/customers/C-77", &max);
    let link = "/desk/customers/C-77/view-as/gwen%40gull-bakery.example";
    assert!(
        page.body
            .contains("/desk/customers/C-77/view-as/gwen%40gull")
            && page.body.contains("View as gwen@gull-bakery.example"),
        "{}",
        page.body
    );
    let seen = get(server, link, &max);
    assert_eq!(seen.status, 200, "{}", seen.body);
    for text in [
        "Staff view:",
        "as gwen@gull-bakery.example sees it",
        "Gull Bakery",
        "INV-7701",
        "Q-7701",
        "New shop fit-out",
        "Floor plan",
    ] {
        assert!(seen.body.contains(text), "{text}: {}", seen.body);
    }
    let export = String::from_utf8(admin(spec, &["export", "-", "--no-files"]).stdout).unwrap();
    assert!(
        export.lines().any(|l| l.contains("customer.viewed_as")
            && l.contains("staff:max@kestrel-systems.co.uk")
            && l.contains("gwen@gull-bakery.example")),
        "the view is audited"
    );
    assert_eq!(
        get(
            server,
            "/desk/customers/C-77/view-as/nobody%40example.com",
            &max
        )
        .status,
        404
    );
    assert_eq!(
        get(
            server,
            "/desk/customers/demo-1/view-as/gwen%40gull-bakery.example",
            &max
        )
        .status,
        404,
        "a login is seen only under its own account"
    );

    // A second person at the bakery; each files a case. The manager narrows Gwen's login to
    // her own issues: her session ends, and from the next she sees only hers.
    let page = get(server, "/desk/customers/C-77", &max);
    let invited = post(
        server,
        "/desk/customers/C-77/logins",
        &max,
        FORM,
        &form(&[
            ("csrf", &page.csrf()),
            ("email", "hal@gull-bakery.example"),
            ("name", "Hal"),
        ]),
    );
    assert_eq!(invited.status, 303, "{}", invited.body);
    let token = Server::link_token(outbox, "hal@gull-bakery.example", "/activate/");
    let (status, _, body) = server.post(
        "/api/auth/activate",
        "application/json",
        &format!(r#"{{"token": "{token}", "password": "ovens at dawn"}}"#),
    );
    assert_eq!(status, 200, "{body}");
    let hal = customer_session(server, "hal@gull-bakery.example", "ovens at dawn");
    let mut numbers = Vec::new();
    for (who, subject) in [(&gwen, "Oven timer drifts"), (&hal, "Scale reads heavy")] {
        let (status, _, body) = server.post_with(
            "/api/my/issues",
            "application/json",
            &format!(
                r#"{{"binder": "cases", "subject": "{subject}", "description": "Since Monday."}}"#
            ),
            &[("cookie", who.as_str())],
        );
        assert_eq!(status, 201, "{body}");
        numbers.push(
            serde_json::from_str::<Value>(&body).unwrap()["number"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let narrowed = post(
        server,
        "/desk/customers/C-77/logins/gwen%40gull-bakery.example",
        &max,
        FORM,
        &form(&[
            ("csrf", &page.csrf()),
            ("visibility", "set"),
            ("billing", "on"),
            ("projects", "on"),
        ]),
    );
    assert_eq!(narrowed.status, 303, "{}", narrowed.body);
    assert_eq!(get(server, "/api/my/account", &gwen).status, 401);
    let page = get(server, "/desk/customers/C-77", &max);
    assert!(
        page.body
            .contains("(sees only its own issues, billing, projects)"),
        "{}",
        page.body
    );
    let gwen = customer_session(server, "gwen@gull-bakery.example", "fresh bread daily");
    let mine = get(server, "/api/my/issues", &gwen).body;
    assert!(
        mine.contains("Oven timer drifts") && !mine.contains("Scale reads heavy"),
        "{mine}"
    );
    assert_eq!(
        get(server, &format!("/api/my/issues/{}", numbers[1]), &gwen).status,
        404,
        "another login's case is not hers to see"
    );
    assert!(
        get(server, "/api/my/issues", &hal)
            .body
            .contains("Oven timer drifts"),
        "Hal still sees all of the account's issues"
    );
    assert_eq!(get(server, "/api/my/invoices", &gwen).status, 200);

    // A stale edit changes nothing; a fresh one does, and disabling the login ends its
    // sessions.
    let page = get(server, "/desk/customers/C-77", &max);
    let version = value_of(&page.body, "version");
    let edit = |name: &str, version: &str| {
        post(
            server,
            "/desk/customers/C-77",
            &max,
            FORM,
            &form(&[
                ("csrf", &csrf),
                ("version", version),
                ("number", "77"),
                ("name", name),
                ("email", "accounts@gull-bakery.example"),
                ("status", "active"),
                ("phones", "0117 496 0000"),
                ("address", "1 Quay Street\nBristol"),
            ]),
        )
    };
    assert_eq!(edit("Gull Bakery Ltd", &version).status, 303);
    let stale = edit("Gull Bakery (old form)", &version);
    assert_eq!(stale.status, 409, "{}", stale.body);
    let page = get(server, "/desk/customers/C-77", &max);
    assert!(page.body.contains("Gull Bakery Ltd") && !page.body.contains("old form"));
    assert!(page.body.contains("1 Quay Street"));
    let disabled = post(
        server,
        "/desk/customers/C-77/logins/gwen%40gull-bakery.example",
        &max,
        FORM,
        &form(&[("csrf", &csrf), ("disabled", "true")]),
    );
    assert_eq!(disabled.status, 303, "{}", disabled.body);
    assert_eq!(get(server, "/api/my/account", &gwen).status, 401);

    // An agent reads the account but neither its billing nor any form; writes are refused.
    let seen = get(server, "/desk/customers/C-77", &ann);
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert!(!seen.body.contains("INV-7701") && !seen.body.contains("Publish an invoice"));
    assert!(!seen.body.contains("Send an invitation"));
    let agent_csrf = seen.csrf();
    for (path, fields) in [
        (
            "/desk/customers/C-77/invoices",
            vec![
                ("id", "INV-9"),
                ("number", "9"),
                ("date", "2026-12-01"),
                ("due", "2026-12-31"),
                ("status", "open"),
                ("description_1", "x"),
                ("price_1", "1"),
            ],
        ),
        (
            "/desk/customers/C-77/payments",
            vec![
                ("id", "P-9"),
                ("date", "2026-12-01"),
                ("amount", "1"),
                ("method", "cash"),
            ],
        ),
        (
            "/desk/customers/C-77/logins",
            vec![("email", "mallory@example.com")],
        ),
        (
            "/desk/customers/C-77/projects",
            vec![("id", "P-9"), ("name", "Mallory's project")],
        ),
        (
            "/desk/customers/C-77/projects/P-77/notes",
            vec![("body", "mallory was here")],
        ),
        (
            "/desk/customers/C-77/reports",
            vec![
                ("id", "R-9"),
                ("kind", "expenses"),
                ("title", "Mallory's report"),
                ("date", "2026-12-01"),
                ("description_1", "x"),
                ("quantity_1", "1"),
            ],
        ),
        (
            "/desk/customers",
            vec![
                ("id", "C-99"),
                ("number", "99"),
                ("name", "X"),
                ("email", "x@example.com"),
            ],
        ),
    ] {
        let mut all = vec![("csrf", agent_csrf.as_str())];
        all.extend(fields);
        let refused = post(server, path, &ann, FORM, &form(&all));
        assert_eq!(refused.status, 403, "{path}: {}", refused.body);
    }
    let page = get(server, "/desk/customers/C-77", &max);
    // (The forms suggest fresh random ids such as `INV-9…`: the refused invoice would be a
    // row of its own.)
    assert!(
        !page.body.contains("<td>INV-9</td>")
            && !page.body.contains("mallory")
            && !page.body.contains("Mallory"),
        "nothing written"
    );
    assert!(!get(server, "/desk/customers/C-77/projects/P-77", &max)
        .body
        .contains("mallory was here"));
    assert_eq!(
        get(server, "/desk/customers/C-77/projects/P-77", &ann).status,
        403
    );
    let peek = get(
        server,
        "/desk/customers/C-77/view-as/gwen%40gull-bakery.example",
        &ann,
    );
    assert_eq!(peek.status, 403, "{}", peek.body);
    assert!(!peek.body.contains("INV-7701"));
    // No session, no customer screens.
    assert_eq!(
        get(server, "/desk/customers/C-77", "").location(),
        "/desk/login"
    );
}

on_both!(a_manager_onboards_a_customer, "onboard", onboarding);

fn sign_ups(server: &Server, spec: &str, outbox: &Path) {
    let max = member(server, spec, outbox, "max@kestrel-systems.co.uk", "manager");
    let ann = member(server, spec, outbox, "ann@kestrel-systems.co.uk", "agent");
    let json = "application/json";
    let (s, _, body) = server.post(
        "/api/events/card-payments-webinar-march/registrations",
        json,
        r#"{"name": "Grace Hopper", "email": "grace@example.com", "company": "=cmd|' /C calc'!A0"}"#,
    );
    assert_eq!(s, 201, "{body}");
    let (s, _, body) = server.post(
        "/api/newsletters/seminars/subscriptions",
        json,
        r#"{"email": "sue@example.com", "name": "Sue"}"#,
    );
    assert_eq!(s, 202, "{body}");
    let (s, _, body) = server.post(
        "/api/requests",
        json,
        r#"{"kind": "estore", "name": "Eve", "email": "eve@example.com", "address": "1 High St", "message": "An account, please."}"#,
    );
    assert_eq!(s, 201, "{body}");

    // The manager finds each list from the menu, and downloads it.
    let home = get(server, "/desk/", &max);
    assert!(
        home.body.contains(r#"href="/desk/events""#)
            && home.body.contains(r#"href="/desk/requests""#)
    );
    let events = get(server, "/desk/events", &max);
    assert_eq!(events.status, 200, "{}", events.body);
    assert!(events
        .body
        .contains("/desk/events/card-payments-webinar-march"));
    assert!(events.body.contains("/desk/newsletters/seminars"));
    let event = get(server, "/desk/events/card-payments-webinar-march", &max);
    assert_eq!(event.status, 200, "{}", event.body);
    assert!(event.body.contains("Grace Hopper") && event.body.contains("confirmed"));
    let csv = get(
        server,
        "/desk/events/card-payments-webinar-march/registrations.csv",
        &max,
    );
    assert_eq!(csv.status, 200);
    assert!(csv
        .headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("attachment"));
    assert!(
        csv.body
            .contains("confirmed,Grace Hopper,grace@example.com,'=cmd"),
        "formula-safe: {}",
        csv.body
    );
    // Check-in on the day, and undone.
    let checked = post(
        server,
        "/desk/events/card-payments-webinar-march/registrations/grace%40example.com",
        &max,
        FORM,
        &form(&[("csrf", &event.csrf()), ("checked_in", "true")]),
    );
    assert_eq!(checked.status, 303, "{}", checked.body);
    let event = get(server, "/desk/events/card-payments-webinar-march", &max);
    assert!(event.body.contains("Undo<span"), "{}", event.body);
    let csv = get(
        server,
        "/desk/events/card-payments-webinar-march/registrations.csv",
        &max,
    );
    let row = csv
        .body
        .lines()
        .find(|l| l.contains("grace@example.com"))
        .unwrap()
        .to_string();
    assert!(!row.ends_with(','), "a check-in time: {row}");
    let nobody = post(
        server,
        "/desk/events/card-payments-webinar-march/registrations/nobody%40example.com",
        &max,
        FORM,
        &form(&[("csrf", &event.csrf()), ("checked_in", "true")]),
    );
    assert_eq!(nobody.status, 404, "{}", nobody.body);
    let list = get(server, "/desk/newsletters/seminars", &max);
    assert!(
        list.body.contains("sue@example.com") && list.body.contains("not confirmed yet"),
        "{}",
        list.body
    );
    let csv = get(server, "/desk/newsletters/seminars/subscribers.csv", &max);
    assert!(csv.body.contains("sue@example.com,Sue,no,"), "{}", csv.body);
    assert_eq!(get(server, "/desk/events/no-such-event", &max).status, 404);

    // A request's status, against the version the page showed.
    let page = get(server, "/desk/requests", &max);
    assert!(page.body.contains("eve@example.com"), "{}", page.body);
    let action = page
        .body
        .split(r#"action="/desk/requests/"#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let version = value_of(&page.body, "version");
    let set = |status: &str| {
        post(
            server,
            &format!("/desk/requests/{action}"),
            &max,
            FORM,
            &form(&[
                ("csrf", &page.csrf()),
                ("version", &version),
                ("status", status),
            ]),
        )
    };
    assert_eq!(set("contacted").status, 303);
    let stale = set("closed");
    assert_eq!(stale.status, 409, "{}", stale.body);
    let page = get(server, "/desk/requests", &max);
    assert!(page.body.contains(r#"value="contacted""#) && !page.body.contains(r#"value="closed""#));

    // Agents see none of it.
    for path in [
        "/desk/events",
        "/desk/events/card-payments-webinar-march",
        "/desk/events/card-payments-webinar-march/registrations.csv",
        "/desk/newsletters/seminars/subscribers.csv",
        "/desk/requests",
    ] {
        let refused = get(server, path, &ann);
        assert_eq!(refused.status, 403, "{path}");
        assert!(
            !refused.body.contains("grace@example.com")
                && !refused.body.contains("sue@example.com")
        );
    }
    assert!(!get(server, "/desk/", &ann)
        .body
        .contains(r#"href="/desk/events""#));

    // What readers told the writers: ratings of an article, and searches that found nothing.
    for (helpful, comment) in [
        ("true", "Clear steps."),
        ("false", "Says nothing about gift cards."),
        ("false", ""),
    ] {
        let (s, _, body) = server.post(
            "/api/kb/refund-a-sale/feedback",
            json,
            &format!(r#"{{"helpful": {helpful}, "comment": "{comment}"}}"#),
        );
        assert_eq!(s, 201, "{body}");
    }
    for words in ["Parrot  Feeder", "parrot FEEDER", "refund"] {
        let (s, _, body) = server.get(&format!("/api/search?q={}", words.replace(' ', "+")));
        assert_eq!(s, 200, "{body}");
    }
    let insight = get(server, "/desk/insight", &max);
    assert_eq!(insight.status, 200, "{}", insight.body);
    let row = |text: &str| {
        insight
            .body
            .split("<tr>")
            .find(|r| r.contains(text))
            .unwrap_or_else(|| panic!("no row with {text}: {}", insight.body))
            .to_string()
    };
    let article = row(r#"href="/kb/refund-a-sale""#);
    assert!(
        article.contains(r#"<td class="num">1</td><td class="num">2</td><td class="num">33%</td>"#)
            && article.contains("Says nothing about gift cards.")
            && article.contains("Clear steps."),
        "{article}"
    );
    let miss = row("<td>parrot feeder</td>");
    assert!(miss.contains(r#"<td class="num">2</td>"#), "{miss}");
    assert!(
        !insight.body.contains("<td>refund</td>"),
        "a search that found something is not a miss"
    );
    assert_eq!(get(server, "/desk/insight", &ann).status, 403);
}

on_both!(a_manager_reads_and_exports_sign_ups, "signups", sign_ups);

/// Every desk route with the least role that may use it (`None`: open to anyone, for logging
/// in). The walk below fails if the desk's router has a route this table does not name.
const DESK_ROUTES: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/desk", None),
    ("GET", "/desk/login", None),
    ("POST", "/desk/login", None),
    ("POST", "/desk/logout", None),
    ("GET", "/desk/activate/{token}", None),
    ("POST", "/desk/activate", None),
    ("GET", "/desk/", Some("agent")),
    ("GET", "/desk/security", Some("agent")),
    ("POST", "/desk/security/totp", Some("agent")),
    ("POST", "/desk/security/password", Some("agent")),
    ("POST", "/desk/security/recovery", Some("agent")),
    ("GET", "/desk/issues/{number}", Some("agent")),
    ("POST", "/desk/issues/{number}", Some("agent")),
    ("POST", "/desk/issues/{number}/replies", Some("agent")),
    ("POST", "/desk/issues/{number}/notes", Some("agent")),
    ("GET", "/desk/customers", Some("agent")),
    ("POST", "/desk/customers", Some("manager")),
    ("GET", "/desk/customers/{id}", Some("agent")),
    ("POST", "/desk/customers/{id}", Some("manager")),
    ("POST", "/desk/customers/{id}/logins", Some("manager")),
    (
        "POST",
        "/desk/customers/{id}/logins/{email}",
        Some("manager"),
    ),
    ("POST", "/desk/customers/{id}/invoices", Some("manager")),
    ("POST", "/desk/customers/{id}/payments", Some("manager")),
    ("POST", "/desk/customers/{id}/quotes", Some("manager")),
    ("POST", "/desk/customers/{id}/projects", Some("manager")),
    (
        "GET",
        "/desk/customers/{id}/projects/{project}",
        Some("manager"),
    ),
    (
        "POST",
        "/desk/customers/{id}/projects/{project}/tasks",
        Some("manager"),
    ),
    (
        "POST",
        "/desk/customers/{id}/projects/{project}/notes",
        Some("manager"),
    ),
    ("POST", "/desk/customers/{id}/reports", Some("manager")),
    ("POST", "/desk/customers/{id}/documents", Some("manager")),
    (
        "GET",
        "/desk/customers/{id}/view-as/{email}",
        Some("manager"),
    ),
    ("GET", "/desk/events", Some("manager")),
    ("GET", "/desk/events/{event}", Some("manager")),
    (
        "GET",
        "/desk/events/{event}/registrations.csv",
        Some("manager"),
    ),
    (
        "POST",
        "/desk/events/{event}/registrations/{email}",
        Some("manager"),
    ),
    ("GET", "/desk/newsletters/{list}", Some("manager")),
    (
        "GET",
        "/desk/newsletters/{list}/subscribers.csv",
        Some("manager"),
    ),
    ("GET", "/desk/requests", Some("manager")),
    ("POST", "/desk/requests/{reference}", Some("manager")),
    ("POST", "/desk/appointments/{reference}", Some("manager")),
    ("GET", "/desk/insight", Some("manager")),
    ("GET", "/desk/staff", Some("admin")),
    ("POST", "/desk/staff", Some("admin")),
    ("POST", "/desk/staff/{email}", Some("admin")),
    ("POST", "/desk/staff/{email}/help", Some("admin")),
];

/// The routes the desk's router declares, as written in `functions/src/desk/mod.rs`.
fn declared_routes() -> Vec<String> {
    let code = std::fs::read_to_string(common::repo().join("functions/src/desk/mod.rs")).unwrap();
    code.split(".route(")
        .skip(1)
        .map(|rest| rest.split('"').nth(1).unwrap().to_string())
        .collect()
}

#[test]
fn every_desk_route_is_closed_to_strangers_customers_and_lesser_roles() {
    // The table names every route the router has.
    let mut declared = declared_routes();
    declared.sort();
    let mut walked: Vec<String> = DESK_ROUTES.iter().map(|(_, p, _)| p.to_string()).collect();
    walked.sort();
    walked.dedup();
    assert_eq!(declared, walked, "every desk route is in DESK_ROUTES");

    let (dir, server) = common::demo_site("", None, |_| {});
    let spec = format!(
        "sqlite:{}",
        dir.path().join("data").join("portal.db").display()
    );
    let outbox = dir.path().join("data").join("outbox");
    let agent = member(
        &server,
        &spec,
        &outbox,
        "ann@kestrel-systems.co.uk",
        "agent",
    );
    let manager = member(
        &server,
        &spec,
        &outbox,
        "max@kestrel-systems.co.uk",
        "manager",
    );
    // An admin works only after setting up the second factor.
    let out = admin(
        &spec,
        &[
            "staff",
            "add",
            "bea@kestrel-systems.co.uk",
            "--role",
            "admin",
        ],
    );
    assert!(out.status.success());
    activate(
        &server,
        &outbox,
        "bea@kestrel-systems.co.uk",
        "an admin password",
    );
    let (_, half) = login(
        &server,
        "bea@kestrel-systems.co.uk",
        "an admin password",
        "",
    );
    let security = get(&server, "/desk/security", &half);
    let secret = value_of(&security.body, "secret");
    let enrolled = post(
        &server,
        "/desk/security/totp",
        &half,
        FORM,
        &form(&[
            ("csrf", &security.csrf()),
            ("secret", &secret),
            ("seal", &value_of(&security.body, "seal")),
            ("code", &code(&secret)),
        ]),
    );
    assert_eq!(enrolled.status, 200, "{}", enrolled.body);
    let boss = enrolled
        .desk_cookie()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let customer = customer_session(&server, "ada@harbour-cafe.example", "harbour cafe demo");
    let (s, _, body) = server.post(
        "/api/issues",
        "application/json",
        r#"{"name": "Vera", "email": "vera@example.com", "subject": "Walk", "description": "A walk."}"#,
    );
    assert_eq!(s, 201, "{body}");
    let number = serde_json::from_str::<Value>(&body).unwrap()["number"]
        .as_str()
        .unwrap()
        .to_string();
    let fill = |path: &str| {
        path.replace("{number}", &number)
            .replace("{id}", "demo-1")
            .replace("{project}", "no-such-project")
            .replace("{email}", "nobody%40example.com")
            .replace("{event}", "card-payments-webinar-march")
            .replace("{list}", "seminars")
            .replace("{reference}", "no-such-reference")
            .replace("{token}", "0123456789abcdef0123456789abcdef")
    };
    let rank = |role: &str| {
        ["agent", "manager", "admin"]
            .iter()
            .position(|r| *r == role)
            .unwrap()
    };
    let sessions = [("agent", &agent), ("manager", &manager), ("admin", &boss)];
    for (method, template, least) in DESK_ROUTES {
        let Some(least) = least else { continue };
        let path = fill(template);
        // Nobody, and a customer's session, are sent to log in (a page) or refused (a post).
        for cookie in ["", customer.as_str()] {
            let a = if *method == "GET" {
                get(&server, &path, cookie)
            } else {
                post(&server, &path, cookie, FORM, "")
            };
            if *method == "GET" {
                assert_eq!(
                    (a.status, a.location()),
                    (303, "/desk/login"),
                    "{method} {path}"
                );
            } else {
                assert_eq!(a.status, 401, "{method} {path}: {}", a.body);
            }
        }
        // Each role: refused below the route's least role, let through from it on. A post
        // carries the session's form token and no fields, so it changes nothing either way.
        for (role, cookie) in sessions {
            let a = if *method == "GET" {
                get(&server, &path, cookie)
            } else {
                let token = get(&server, "/desk/security", cookie).csrf();
                post(&server, &path, cookie, FORM, &form(&[("csrf", &token)]))
            };
            if rank(role) < rank(least) {
                assert_eq!(a.status, 403, "{method} {path} as {role}: {}", a.body);
            } else {
                assert!(
                    a.status != 401 && a.status != 403 && a.status < 500,
                    "{method} {path} as {role}: {} {}",
                    a.status,
                    a.body
                );
            }
        }
    }
    // The forms sent without fields wrote nothing.
    let page = get(&server, "/desk/customers/demo-1", &manager);
    assert!(page.body.contains("Harbour Café"), "{}", page.body);
    assert!(!get(&server, "/desk/staff", &boss)
        .body
        .contains("nobody@example.com"));
}
