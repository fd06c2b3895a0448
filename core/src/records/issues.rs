//! Issues — public tickets, service cases and bug reports — with human tracking numbers,
//! private tracking links, status history and notes.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::outbox::Mail;
use super::{
    conflict, from_item, new_id, random_token, to_item, token_hash, Record, RecordError,
    RecordResult, Versioned,
};
use crate::store::{now, Cond, Key, Query, Store, StoreError, StoreResult, Write};

/// What kind of issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// Filed by a visitor on the public help desk.
    Ticket,
    /// A customer's service case.
    Case,
    /// A customer's software bug report.
    Bug,
}

/// A change of status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    /// New status.
    pub status: String,
    /// Unix seconds.
    pub at: i64,
    /// Who changed it.
    pub by: String,
}

/// An issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// Identifier.
    pub id: String,
    /// Human tracking number, e.g. `KST-2026-000123`.
    pub number: String,
    /// Kind.
    pub kind: IssueKind,
    /// The binder (queue) it is in.
    pub binder: String,
    /// The customer, for cases and bugs.
    #[serde(default)]
    pub customer_id: Option<String>,
    /// Category chosen on the form.
    #[serde(default)]
    pub category: Option<String>,
    /// Subject.
    pub subject: String,
    /// Description.
    pub description: String,
    /// Submitter's name.
    pub name: String,
    /// Submitter's e-mail address.
    pub email: String,
    /// Current status.
    pub status: String,
    /// Every status it has had.
    pub history: Vec<StatusChange>,
    /// Unix seconds.
    pub created: i64,
    /// The staff member it is assigned to, if any.
    #[serde(default)]
    pub assignee: Option<String>,
    /// When staff or the system last changed it (status, assignment), Unix seconds; 0 for
    /// an issue filed before the field existed.
    #[serde(default)]
    pub updated: i64,
}

impl Record for Issue {
    fn key(&self) -> Key {
        Key::new(format!("ISSUE#{}", self.id), "ISSUE")
    }
}

/// An issue with its notes and attachments.
#[derive(Debug, Clone, PartialEq)]
pub struct Thread {
    /// The issue (always set in a returned thread).
    pub issue: Option<Versioned<Issue>>,
    /// Notes, oldest first.
    pub notes: Vec<Note>,
    /// Attachments, oldest first.
    pub attachments: Vec<Attachment>,
    /// When one of the issue's working tracking links was last opened (Unix seconds, to the
    /// hour: a link records an opening at most once an hour), or `None` if none has been.
    pub link_opened: Option<i64>,
}

/// A note on an issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// The issue.
    pub issue_id: String,
    /// Identifier.
    pub id: String,
    /// Author's name.
    pub author: String,
    /// Text.
    pub body: String,
    /// Hidden notes are for staff only and never sent to customers or visitors.
    pub public: bool,
    /// Unix seconds.
    pub created: i64,
}

impl Record for Note {
    fn key(&self) -> Key {
        Key::new(
            format!("ISSUE#{}", self.issue_id),
            format!("NOTE#{:012}#{}", self.created, self.id),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Pointer {
    pk: String,
    sk: String,
    issue_id: String,
    /// For a tracking link: when it stops working unless used before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    /// For a tracking link: when it was last opened, to the hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    opened: Option<i64>,
}

impl Record for Pointer {
    fn key(&self) -> Key {
        Key::new(&self.pk, &self.sk)
    }
    fn expires_at(&self) -> Option<i64> {
        self.expires_at
    }
}

/// Remembers a tracking link beside its issue (`ISSUE#{id}` / `TRACKREF#{hash}`), so a new
/// link can revoke the older ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TrackRef {
    issue_id: String,
    token_hash: String,
    expires_at: i64,
    /// When the link was last opened, to the hour (what staff see on the issue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    opened: Option<i64>,
}

impl Record for TrackRef {
    fn key(&self) -> Key {
        Key::new(
            format!("ISSUE#{}", self.issue_id),
            format!("TRACKREF#{}", self.token_hash),
        )
    }
    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

/// How long a tracking link works after it was last used (or made).
pub const TRACK_LINK_SECONDS: i64 = 180 * 24 * 3600;

/// The pointer and the reference that make `token` a tracking link of `issue_id`.
fn tracking_link(issue_id: &str, token: &str) -> StoreResult<[Write; 2]> {
    let hash = token_hash(token);
    let expires_at = now() + TRACK_LINK_SECONDS;
    Ok([
        Write::Put(
            to_item(&Pointer {
                pk: format!("TRACK#{hash}"),
                sk: "TRACK".into(),
                issue_id: issue_id.to_string(),
                expires_at: Some(expires_at),
                opened: None,
            })?,
            Cond::NotExists,
        ),
        Write::Put(
            to_item(&TrackRef {
                issue_id: issue_id.to_string(),
                token_hash: hash,
                expires_at,
                opened: None,
            })?,
            Cond::NotExists,
        ),
    ])
}

impl Thread {
    /// What a customer or visitor may see: public notes, the files sent with the issue, and
    /// the files of notes read and found public. A file whose note was not read (or is
    /// hidden) stays hidden: this fails closed.
    fn public(mut self) -> Thread {
        self.notes.retain(|n| n.public);
        let public: std::collections::HashSet<&str> =
            self.notes.iter().map(|n| n.id.as_str()).collect();
        self.attachments
            .retain(|a| a.note_id.as_deref().is_none_or(|n| public.contains(n)));
        self
    }
}

/// What a customer's issue list shows, kept beside the customer so the list is one query
/// (`CUSTOMER#{id}` / `ISSUE#{time}#{issue}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssueSummary {
    /// The customer.
    pub customer_id: String,
    /// The issue.
    pub issue_id: String,
    /// Tracking number.
    pub number: String,
    /// Kind.
    pub kind: IssueKind,
    /// Subject.
    pub subject: String,
    /// Current status.
    pub status: String,
    /// Unix seconds.
    pub created: i64,
    /// The address of the login that filed it (empty in summaries written before it was
    /// kept, which a login that sees only its own issues does not see).
    #[serde(default)]
    pub email: String,
}

impl IssueSummary {
    fn of(issue: &Issue) -> Option<IssueSummary> {
        issue.customer_id.as_ref().map(|c| IssueSummary {
            email: issue.email.clone(),
            customer_id: c.clone(),
            issue_id: issue.id.clone(),
            number: issue.number.clone(),
            kind: issue.kind,
            subject: issue.subject.clone(),
            status: issue.status.clone(),
            created: issue.created,
        })
    }
}

impl Record for IssueSummary {
    fn key(&self) -> Key {
        Key::new(
            format!("CUSTOMER#{}", self.customer_id),
            format!("ISSUE#{:012}#{}", self.created, self.issue_id),
        )
    }
}

/// A change staff make to an issue: each part that is `Some` is changed (`Some(None)`:
/// unassigned, or no category).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IssueEdit {
    /// A new status.
    pub status: Option<String>,
    /// A new assignee.
    pub assignee: Option<Option<String>>,
    /// A new category.
    pub category: Option<Option<String>>,
}

/// What the staff's queue shows of an issue, kept in its binder's partition so a queue is
/// one query (`DESK#{binder}` / `ISSUE#{issue}`), rewritten whenever the issue changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeskEntry {
    /// The binder.
    pub binder: String,
    /// The issue.
    pub issue_id: String,
    /// Tracking number.
    pub number: String,
    /// Kind.
    pub kind: IssueKind,
    /// The customer, for cases and bugs.
    #[serde(default)]
    pub customer_id: Option<String>,
    /// Subject.
    pub subject: String,
    /// Current status.
    pub status: String,
    /// Assigned to.
    #[serde(default)]
    pub assignee: Option<String>,
    /// Filed, Unix seconds.
    pub created: i64,
    /// Last changed, Unix seconds.
    pub updated: i64,
}

impl DeskEntry {
    /// The entry of `issue`.
    pub fn of(issue: &Issue) -> DeskEntry {
        DeskEntry {
            binder: issue.binder.clone(),
            issue_id: issue.id.clone(),
            number: issue.number.clone(),
            kind: issue.kind,
            customer_id: issue.customer_id.clone(),
            subject: issue.subject.clone(),
            status: issue.status.clone(),
            assignee: issue.assignee.clone(),
            created: issue.created,
            updated: issue.updated.max(issue.created),
        }
    }
}

impl Record for DeskEntry {
    fn key(&self) -> Key {
        Key::new(
            format!("DESK#{}", self.binder),
            format!("ISSUE#{}", self.issue_id),
        )
    }
}

/// The most characters of one text an issue's [`DeskText`] keeps.
pub const DESK_TEXT_CHARS: usize = 2000;

/// Words of an issue for the staff's search, kept beside its queue entry: its description
/// (`DESK#{binder}` / `TEXT#{issue}#description`) and each note (`TEXT#{issue}#{note}`),
/// written with it, lower case, the first [`DESK_TEXT_CHARS`] characters. Searching a
/// binder's issues by what was said in them is one query of its partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeskText {
    /// The binder.
    pub binder: String,
    /// The issue.
    pub issue_id: String,
    /// `description`, or a note's id.
    pub part: String,
    /// The words.
    pub text: String,
}

impl DeskText {
    /// The text `text` of `part` of the issue `issue_id` in `binder`.
    pub fn new(binder: &str, issue_id: &str, part: &str, text: &str) -> DeskText {
        DeskText {
            binder: binder.to_string(),
            issue_id: issue_id.to_string(),
            part: part.to_string(),
            text: text
                .chars()
                .take(DESK_TEXT_CHARS)
                .collect::<String>()
                .to_lowercase(),
        }
    }

    /// The write that stores it (replacing an older text of the same part).
    pub fn write(&self) -> StoreResult<Write> {
        Ok(Write::Put(to_item(self)?, Cond::None))
    }
}

impl Record for DeskText {
    fn key(&self) -> Key {
        Key::new(
            format!("DESK#{}", self.binder),
            format!("TEXT#{}#{}", self.issue_id, self.part),
        )
    }
}

/// How many numbers a filing tries before giving up: more than one only when numbers were
/// handed out outside the counter (an import, an older portal).
const NUMBER_RETRIES: usize = 5;

/// Issues and notes.
#[derive(Debug, Clone)]
pub struct Issues {
    store: Arc<dyn Store>,
}

impl Issues {
    /// The repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Issues { store }
    }

    /// Files `issue` (its `id`, `number` and `history` are filled in here) with the next
    /// tracking number `{prefix}-{year}-{n:06}`, a tracking token, and the mail `mail` makes
    /// from the issue and its token — all in one transaction. Returns the issue and the tracking token (2 requests: the number, then the transaction; more only when numbers were handed out outside the counter).
    /// another filing took the same number at the same moment).
    pub async fn file(
        &self,
        issue: Issue,
        prefix: &str,
        year: i32,
        mail: impl Fn(&Issue, &str) -> Option<Mail>,
    ) -> RecordResult<(Issue, String)> {
        self.file_with(issue, prefix, year, |issue, token| {
            mail(issue, token)
                .map(|m| to_item(&m).map(|i| vec![Write::Put(i, Cond::NotExists)]))
                .unwrap_or(Ok(Vec::new()))
        })
        .await
    }

    /// As [`Issues::file`], with the writes `extra` makes for the filed issue and its
    /// tracking token (its mail, its attachments' records) in the same transaction.
    pub async fn file_with(
        &self,
        mut issue: Issue,
        prefix: &str,
        year: i32,
        extra: impl Fn(&Issue, &str) -> crate::store::StoreResult<Vec<Write>>,
    ) -> RecordResult<(Issue, String)> {
        issue.id = new_id();
        issue.created = now();
        issue.updated = issue.created;
        issue.history = vec![StatusChange {
            status: issue.status.clone(),
            at: issue.created,
            by: issue.name.clone(),
        }];
        let counter_key = Key::new(format!("COUNTER#ISSUE#{year}"), "COUNTER");
        for _ in 0..NUMBER_RETRIES {
            // A number is taken atomically before the transaction: two filings never get the
            // same one and never wait for each other; a filing that fails skips its number.
            let n = self.next_number(&counter_key).await?;
            issue.number = format!("{prefix}-{year}-{n:06}");
            let token = random_token();
            let mut writes = vec![
                Write::Put(to_item(&issue)?, Cond::NotExists),
                Write::Put(
                    to_item(&Pointer {
                        pk: format!("TRACKNUM#{}", issue.number),
                        sk: "TRACKNUM".into(),
                        issue_id: issue.id.clone(),
                        expires_at: None,
                        opened: None,
                    })?,
                    Cond::NotExists,
                ),
            ];
            writes.extend(tracking_link(&issue.id, &token)?);
            if let Some(summary) = IssueSummary::of(&issue) {
                writes.push(Write::Put(to_item(&summary)?, Cond::NotExists));
            }
            writes.push(Write::Put(to_item(&DeskEntry::of(&issue))?, Cond::None));
            writes.push(
                DeskText::new(&issue.binder, &issue.id, "description", &issue.description)
                    .write()?,
            );
            writes.extend(extra(&issue, &token)?);
            match self.store.transact(writes).await {
                Ok(()) => return Ok((issue, token)),
                // The number was given out before the counter existed in this form (an
                // import, an older portal): move the counter past the numbers in use.
                Err(StoreError::TransactionCancelled { failed })
                    if !failed.is_empty() && failed.iter().all(|(i, _)| *i == 1) =>
                {
                    self.skip_used_numbers(&counter_key).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(RecordError::Busy(
            "no free tracking number was found; try again".into(),
        ))
    }

    /// The next tracking number of a year's counter (1 request).
    async fn next_number(&self, counter: &Key) -> RecordResult<u64> {
        let n = self.store.increment(counter, "last", 1, None).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// After a number turned out to be in use, moves the counter up to the last number an
    /// older counter (field `next`, the next number to give) had handed out — never past it,
    /// however many filings find the collision at once (a conditional write).
    async fn skip_used_numbers(&self, counter: &Key) -> RecordResult<()> {
        let Some(item) = self.store.get(counter).await? else {
            return Ok(());
        };
        let older = item.data.get("next").and_then(|n| n.as_i64()).unwrap_or(0);
        let last = item.data.get("last").and_then(|n| n.as_i64()).unwrap_or(0);
        if older - 1 > last {
            let mut raised = item.clone();
            raised.data.insert("last".into(), (older - 1).into());
            match self.store.put(raised, Cond::Version(item.version)).await {
                Ok(_) | Err(StoreError::ConditionFailed { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Makes another tracking token for an issue (the first is stored only as a hash, so a
    /// lost link is replaced, not recovered), revokes the links made before it, and writes
    /// the mail `mail` makes from it, and `extra`, in the same transaction (2 requests).
    pub async fn new_tracking_token(
        &self,
        issue: &Issue,
        mail: impl Fn(&str) -> Mail,
        extra: Vec<Write>,
    ) -> RecordResult<String> {
        let token = random_token();
        let older = self
            .store
            .query(
                &Query::partition(format!("ISSUE#{}", issue.id))
                    .prefix("TRACKREF#")
                    .limit(20),
            )
            .await?;
        let mut writes = Vec::from(tracking_link(&issue.id, &token)?);
        writes.push(Write::Put(to_item(&mail(&token))?, Cond::NotExists));
        writes.extend(extra);
        // The links mailed before stop working (two writes each).
        for r in older
            .items
            .iter()
            .take((crate::store::MAX_TRANSACTION - writes.len()) / 2)
        {
            let hash = r.sk.trim_start_matches("TRACKREF#");
            writes.push(Write::Delete(
                Key::new(format!("TRACK#{hash}"), "TRACK"),
                Cond::None,
            ));
            writes.push(Write::Delete(r.key(), Cond::None));
        }
        self.store.transact(writes).await?;
        Ok(token)
    }

    /// An issue by id (1 request).
    pub async fn get(&self, id: &str) -> RecordResult<Option<Versioned<Issue>>> {
        match self
            .store
            .get(&Key::new(format!("ISSUE#{id}"), "ISSUE"))
            .await?
        {
            Some(item) => Ok(Some(from_item(&self.store.name(), item)?)),
            None => Ok(None),
        }
    }

    async fn via(&self, key: Key) -> RecordResult<Option<Versioned<Issue>>> {
        match self.store.get(&key).await? {
            Some(item) => {
                let p = from_item::<Pointer>(&self.store.name(), item)?;
                self.get(&p.record.issue_id).await
            }
            None => Ok(None),
        }
    }

    /// The issue a tracking link's token opens (2 requests).
    pub async fn by_tracking_token(&self, token: &str) -> RecordResult<Option<Versioned<Issue>>> {
        self.via(Key::new(format!("TRACK#{}", token_hash(token)), "TRACK"))
            .await
    }

    /// The issue a tracking link's token opens with its notes (hidden ones only when
    /// `include_hidden`) and attachments, read together: the issue, its notes and its
    /// attachments share one partition, so this is 2 requests in all (for up to 1,000 items),
    /// and once an hour a third sent with the second, which renews the link.
    pub async fn thread_by_token(
        &self,
        token: &str,
        include_hidden: bool,
    ) -> RecordResult<Option<Thread>> {
        let key = Key::new(format!("TRACK#{}", token_hash(token)), "TRACK");
        let Some(item) = self.store.get(&key).await? else {
            return Ok(None);
        };
        let pointer = from_item::<Pointer>(&self.store.name(), item)?;
        // The renewal (once an hour) goes out with the read of the issue, not before it.
        let (_, thread) = tokio::join!(
            self.renew(&pointer),
            self.partition(&pointer.record.issue_id)
        );
        let mut thread = thread?;
        if !include_hidden {
            thread = thread.public();
        }
        Ok(thread.issue.is_some().then_some(thread))
    }

    /// Records this opening of a tracking link and keeps the link working for
    /// [`TRACK_LINK_SECONDS`] after it, its pointer and its reference beside the issue
    /// together (a write at most once an hour per link; a failure only leaves the older
    /// expiry and opening). A link made before links expired gets its expiry and its reference
    /// now, so a resend can revoke it from then on.
    async fn renew(&self, pointer: &Versioned<Pointer>) {
        let now = now();
        let until = now + TRACK_LINK_SECONDS;
        let recent = |t: Option<i64>, within: i64| t.is_some_and(|t| now - t < within);
        if recent(pointer.record.opened, 3600)
            && recent(
                pointer.record.expires_at.map(|at| at - TRACK_LINK_SECONDS),
                24 * 3600,
            )
        {
            return;
        }
        let mut renewed = pointer.record.clone();
        renewed.expires_at = Some(until);
        renewed.opened = Some(now);
        let reference = TrackRef {
            issue_id: pointer.record.issue_id.clone(),
            token_hash: pointer.record.pk.trim_start_matches("TRACK#").to_string(),
            expires_at: until,
            opened: Some(now),
        };
        let (Ok(p), Ok(r)) = (to_item(&renewed), to_item(&reference)) else {
            return;
        };
        let _ = self
            .store
            .transact(vec![
                Write::Put(p, Cond::Version(pointer.version)),
                Write::Put(r, Cond::None),
            ])
            .await;
    }

    /// The issue with a tracking number (2 requests).
    pub async fn by_number(&self, number: &str) -> RecordResult<Option<Versioned<Issue>>> {
        self.via(Key::new(
            format!("TRACKNUM#{}", number.trim().to_uppercase()),
            "TRACKNUM",
        ))
        .await
    }

    /// Changes the status of an issue read at `version`, recording who and when; the
    /// customer's list changes with it (1 request).
    pub async fn set_status(
        &self,
        issue: &Versioned<Issue>,
        status: &str,
        by: &str,
    ) -> RecordResult<Issue> {
        self.set_status_with(issue, status, by, Vec::new()).await
    }

    /// As [`Issues::set_status`], with `extra` writes (a mail, an audit entry) in the same
    /// transaction (1 request).
    pub async fn set_status_with(
        &self,
        issue: &Versioned<Issue>,
        status: &str,
        by: &str,
        extra: Vec<Write>,
    ) -> RecordResult<Issue> {
        let mut changed = issue.record.clone();
        changed.status = status.to_string();
        changed.updated = now();
        changed.history.push(StatusChange {
            status: status.to_string(),
            at: changed.updated,
            by: by.to_string(),
        });
        self.save(issue.version, changed, extra).await
    }

    /// Changes an issue read at `issue`'s version as `edit` says, by `by`, with `extra` writes
    /// in the same transaction (1 request); a new status goes into its history.
    pub async fn change(
        &self,
        issue: &Versioned<Issue>,
        edit: IssueEdit,
        by: &str,
        extra: Vec<Write>,
    ) -> RecordResult<Issue> {
        let mut changed = issue.record.clone();
        changed.updated = now();
        if let Some(s) = edit.status {
            changed.status = s.clone();
            changed.history.push(StatusChange {
                status: s,
                at: changed.updated,
                by: by.to_string(),
            });
        }
        if let Some(a) = edit.assignee {
            changed.assignee = a;
        }
        if let Some(c) = edit.category {
            changed.category = c;
        }
        self.save(issue.version, changed, extra).await
    }

    /// Assigns an issue read at `version` to `assignee` (none: unassigned), with `extra`
    /// writes in the same transaction (1 request).
    pub async fn assign(
        &self,
        issue: &Versioned<Issue>,
        assignee: Option<String>,
        extra: Vec<Write>,
    ) -> RecordResult<Issue> {
        let mut changed = issue.record.clone();
        changed.assignee = assignee;
        changed.updated = now();
        self.save(issue.version, changed, extra).await
    }

    /// Writes a changed issue read at `version`, with its customer's list entry, its queue
    /// entry and `extra`, in one transaction.
    async fn save(&self, version: u64, changed: Issue, extra: Vec<Write>) -> RecordResult<Issue> {
        let mut writes = vec![Write::Put(to_item(&changed)?, Cond::Version(version))];
        if let Some(summary) = IssueSummary::of(&changed) {
            writes.push(Write::Put(to_item(&summary)?, Cond::None));
        }
        writes.push(Write::Put(to_item(&DeskEntry::of(&changed))?, Cond::None));
        writes.extend(extra);
        self.store.transact(writes).await.map_err(|e| {
            conflict(
                e,
                format!(
                    "issue {} was changed meanwhile; reload and try again",
                    changed.number
                ),
            )
        })?;
        Ok(changed)
    }

    /// A page of a binder's queue, in the order of the issues' ids (1 request).
    pub async fn desk(
        &self,
        binder: &str,
        limit: usize,
        cursor: Option<crate::store::Cursor>,
    ) -> RecordResult<(Vec<DeskEntry>, Option<crate::store::Cursor>)> {
        super::Repo::new(self.store.clone())
            .list(&format!("DESK#{binder}"), "ISSUE#", limit, cursor, false)
            .await
    }

    /// Writes the staff's search texts of every issue and note in the store — for issues
    /// filed before the texts were kept — and returns how many it wrote. Safe to run again:
    /// each text replaces its own (a scan of the store, then a write per text).
    pub async fn index_all(&self) -> RecordResult<usize> {
        let name = self.store.name();
        let mut binders = std::collections::HashMap::new();
        let mut notes = Vec::new();
        let mut texts = Vec::new();
        let mut cursor = None;
        loop {
            let (items, next) = self.store.scan(cursor, 1000).await?;
            for item in items.into_iter().filter(|i| i.pk.starts_with("ISSUE#")) {
                if item.sk == "ISSUE" {
                    let issue: Issue = from_item(&name, item)?.record;
                    texts.push(DeskText::new(
                        &issue.binder,
                        &issue.id,
                        "description",
                        &issue.description,
                    ));
                    binders.insert(issue.id, issue.binder);
                } else if item.sk.starts_with("NOTE#") {
                    notes.push(from_item::<Note>(&name, item)?.record);
                }
            }
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        for n in notes {
            if let Some(binder) = binders.get(&n.issue_id) {
                texts.push(DeskText::new(binder, &n.issue_id, &n.id, &n.body));
            }
        }
        for t in &texts {
            self.store.put(to_item(t)?, Cond::None).await?;
        }
        Ok(texts.len())
    }

    /// The staff's search texts of a binder's issues, each issue's texts joined (1 request
    /// per 1,000 texts, at most `most_pages` pages; whether there were more).
    pub async fn desk_texts(
        &self,
        binder: &str,
        most_pages: usize,
    ) -> RecordResult<(std::collections::HashMap<String, String>, bool)> {
        let name = self.store.name();
        let mut texts: std::collections::HashMap<String, String> = Default::default();
        let mut cursor = None;
        for _ in 0..most_pages {
            let page = self
                .store
                .query(
                    &Query::partition(format!("DESK#{binder}"))
                        .prefix("TEXT#")
                        .limit(1000)
                        .after(cursor),
                )
                .await?;
            for item in page.items {
                let t: DeskText = from_item(&name, item)?.record;
                let joined = texts.entry(t.issue_id).or_default();
                joined.push('\n');
                joined.push_str(&t.text);
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok((texts, false)),
            }
        }
        Ok((texts, true))
    }

    /// An issue with all its notes, hidden ones included, and its attachments (1 request for
    /// up to 1,000 items).
    pub async fn thread(&self, issue_id: &str) -> RecordResult<Option<Thread>> {
        let thread = self.partition(issue_id).await?;
        Ok(thread.issue.is_some().then_some(thread))
    }

    /// Adds a note to an issue in `binder`, with an optional mail about it in the same
    /// transaction (1 request).
    pub async fn add_note(
        &self,
        binder: &str,
        note: &Note,
        mail: Option<Mail>,
    ) -> RecordResult<()> {
        let extra = match mail {
            Some(m) => vec![Write::Put(to_item(&m)?, Cond::NotExists)],
            None => Vec::new(),
        };
        self.add_note_with(binder, note, extra).await
    }

    /// Adds a note to an issue in `binder` with `extra` writes (its attachments' records, a
    /// mail) in the same transaction, its words with it for the staff's search (1 request).
    pub async fn add_note_with(
        &self,
        binder: &str,
        note: &Note,
        extra: Vec<Write>,
    ) -> RecordResult<()> {
        let mut writes = vec![
            Write::Check(
                Key::new(format!("ISSUE#{}", note.issue_id), "ISSUE"),
                Cond::Exists,
            ),
            Write::Put(to_item(note)?, Cond::NotExists),
            DeskText::new(binder, &note.issue_id, &note.id, &note.body).write()?,
        ];
        writes.extend(extra);
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionCancelled { failed })
                if failed.iter().any(|(i, _)| *i == 0) =>
            {
                Err(RecordError::Conflict(format!(
                    "issue {} does not exist",
                    note.issue_id
                )))
            }
            Err(StoreError::TransactionCancelled { .. }) => Err(RecordError::Busy(
                "another request is changing this issue; try again in a moment".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The notes of an issue, oldest first; hidden ones only when `include_hidden` (1 request
    /// per 1,000 notes).
    pub async fn notes(&self, issue_id: &str, include_hidden: bool) -> RecordResult<Vec<Note>> {
        let page = self
            .store
            .query(
                &Query::partition(format!("ISSUE#{issue_id}"))
                    .prefix("NOTE#")
                    .limit(1000),
            )
            .await?;
        let name = self.store.name();
        let notes: Vec<Note> = page
            .items
            .into_iter()
            .map(|i| from_item(&name, i).map(|v| v.record))
            .collect::<Result<_, _>>()?;
        Ok(notes
            .into_iter()
            .filter(|n| include_hidden || n.public)
            .collect())
    }

    /// The attachments of an issue, oldest first; files of hidden notes only when
    /// `include_hidden` (1 request for the issue's first 1,000 notes and files).
    pub async fn attachments(
        &self,
        issue_id: &str,
        include_hidden: bool,
    ) -> RecordResult<Vec<Attachment>> {
        let thread = self.partition(issue_id).await?;
        Ok(if include_hidden {
            thread.attachments
        } else {
            thread.public().attachments
        })
    }

    /// Everything in an issue's partition — the issue, every note, every file — read to the
    /// end (1 request per 1,000 items or 1 MB).
    async fn partition(&self, issue_id: &str) -> RecordResult<Thread> {
        let name = self.store.name();
        let mut thread = Thread {
            issue: None,
            notes: Vec::new(),
            attachments: Vec::new(),
            link_opened: None,
        };
        let mut cursor = None;
        loop {
            let page = self
                .store
                .query(
                    &Query::partition(format!("ISSUE#{issue_id}"))
                        .limit(1000)
                        .after(cursor),
                )
                .await?;
            for item in page.items {
                if item.sk == "ISSUE" {
                    thread.issue = Some(from_item(&name, item)?);
                } else if item.sk.starts_with("NOTE#") {
                    thread.notes.push(from_item(&name, item)?.record);
                } else if item.sk.starts_with("ATTACHMENT#") {
                    thread.attachments.push(from_item(&name, item)?.record);
                } else if item.sk.starts_with("TRACKREF#") {
                    let link: TrackRef = from_item(&name, item)?.record;
                    thread.link_opened = thread.link_opened.max(link.opened);
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(thread),
            }
        }
    }

    /// A customer's issues, newest first (1 request).
    pub async fn for_customer(
        &self,
        customer_id: &str,
        limit: usize,
    ) -> RecordResult<Vec<IssueSummary>> {
        let page = self
            .store
            .query(
                &Query::partition(format!("CUSTOMER#{customer_id}"))
                    .prefix("ISSUE#")
                    .limit(limit)
                    .descending(),
            )
            .await?;
        let name = self.store.name();
        page.items
            .into_iter()
            .map(|i| {
                from_item::<IssueSummary>(&name, i)
                    .map(|v| v.record)
                    .map_err(Into::into)
            })
            .collect()
    }
}

/// What is known of a file attached to an issue; the bytes live in blob storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// The issue.
    pub issue_id: String,
    /// Identifier, also the random blob key.
    pub id: String,
    /// The file name as uploaded (shown, never used as a path).
    pub file_name: String,
    /// Media type found by looking at the content.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// The note it came with, if any.
    #[serde(default)]
    pub note_id: Option<String>,
    /// Unix seconds.
    pub created: i64,
}

impl Record for Attachment {
    fn key(&self) -> Key {
        Key::new(
            format!("ISSUE#{}", self.issue_id),
            format!("ATTACHMENT#{}", self.id),
        )
    }
}
