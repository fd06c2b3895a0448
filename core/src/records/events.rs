//! Event registrations with a capacity and a waiting list, one per person and event, and
//! newsletter subscriptions.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::outbox::Mail;
use super::{
    conflict, email_key, from_item, to_item, Record, RecordError, RecordResult, Repo, Versioned,
};
use crate::store::{now, Cond, Key, Store, StoreError, Write};

/// Places taken at an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seats {
    /// The event.
    pub event_id: String,
    /// Places.
    pub capacity: u32,
    /// Confirmed registrations.
    pub taken: u32,
    /// Registrations on the waiting list.
    pub waiting: u32,
}

impl Record for Seats {
    fn key(&self) -> Key {
        Key::new(format!("EVENT#{}", self.event_id), "SEATS")
    }
}

/// Whether a registration has a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    /// Has a place.
    Confirmed,
    /// On the waiting list.
    Waiting,
}

/// A registration for an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registration {
    /// The event.
    pub event_id: String,
    /// E-mail address (one registration per address and event).
    pub email: String,
    /// Name.
    pub name: String,
    /// Company.
    #[serde(default)]
    pub company: Option<String>,
    /// Place or waiting list.
    pub status: RegistrationStatus,
    /// Unix seconds.
    pub created: i64,
    /// When the person was checked in at the event, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_in: Option<i64>,
}

impl Registration {
    /// The key of `email`'s registration for `event_id`.
    pub fn key_of(event_id: &str, email: &str) -> Key {
        Key::new(
            format!("EVENT#{event_id}"),
            format!("REG#{}", email_key(email)),
        )
    }
}

impl Record for Registration {
    fn key(&self) -> Key {
        Registration::key_of(&self.event_id, &self.email)
    }
}

/// The link in a confirmation e-mail that cancels a registration; only the token's hash is
/// kept (`pk = REGCANCEL#<hash>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelLink {
    /// SHA-256 of the token.
    pub token_hash: String,
    /// The event.
    pub event_id: String,
    /// The registration's address.
    pub email: String,
}

impl CancelLink {
    /// Where the link whose token hashes to `token_hash` is kept.
    pub fn key_of(token_hash: &str) -> Key {
        Key::new(format!("REGCANCEL#{token_hash}"), "CANCEL")
    }
}

impl Record for CancelLink {
    fn key(&self) -> Key {
        CancelLink::key_of(&self.token_hash)
    }
}

const RETRIES: u32 = 8;

/// Registrations.
#[derive(Debug, Clone)]
pub struct Events {
    store: Arc<dyn Store>,
}

impl Events {
    /// The repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Events { store }
    }

    /// Registers `registration` (its status and time are set here) for an event with
    /// `capacity` places: confirmed while places remain, on the waiting list after; a second
    /// registration of the same address is a conflict. The seat count, the registration and
    /// `mail` are written in one transaction (2 requests; more only under contention).
    pub async fn register(
        &self,
        registration: Registration,
        capacity: u32,
        mail: impl Fn(&Registration) -> Option<Mail>,
    ) -> RecordResult<Registration> {
        self.register_with(registration, capacity, |r| {
            mail(r)
                .map(|m| to_item(&m).map(|i| vec![Write::Put(i, Cond::NotExists)]))
                .unwrap_or(Ok(Vec::new()))
        })
        .await
    }

    /// As [`Events::register`], with any writes `extra` makes for the registration (its
    /// mail, its cancel link) in the same transaction.
    pub async fn register_with(
        &self,
        mut registration: Registration,
        capacity: u32,
        extra: impl Fn(&Registration) -> crate::store::StoreResult<Vec<Write>>,
    ) -> RecordResult<Registration> {
        let seats_key = Key::new(format!("EVENT#{}", registration.event_id), "SEATS");
        for attempt in 1..=RETRIES {
            let (mut seats, cond) = match self.store.get(&seats_key).await? {
                Some(item) => {
                    let s = from_item::<Seats>(&self.store.name(), item)?;
                    (s.record, Cond::Version(s.version))
                }
                None => (
                    Seats {
                        event_id: registration.event_id.clone(),
                        capacity,
                        taken: 0,
                        waiting: 0,
                    },
                    Cond::NotExists,
                ),
            };
            seats.capacity = capacity;
            registration.created = now();
            if seats.taken < seats.capacity {
                seats.taken += 1;
                registration.status = RegistrationStatus::Confirmed;
            } else {
                seats.waiting += 1;
                registration.status = RegistrationStatus::Waiting;
            }
            let mut writes = vec![
                Write::Put(to_item(&seats)?, cond),
                Write::Put(to_item(&registration)?, Cond::NotExists),
            ];
            writes.extend(extra(&registration)?);
            match self.store.transact(writes).await {
                Ok(()) => return Ok(registration),
                Err(StoreError::TransactionCancelled { failed })
                    if failed.iter().any(|(i, _)| *i == 1) =>
                {
                    return Err(RecordError::Conflict(format!(
                        "{} is already registered",
                        registration.email
                    )))
                }
                Err(StoreError::TransactionCancelled { failed })
                    if failed.iter().any(|(i, _)| *i >= 2) =>
                {
                    return Err(RecordError::Busy(
                        "another request is changing this registration; try again".into(),
                    ))
                }
                Err(StoreError::TransactionCancelled { .. }) => {
                    tokio::time::sleep(crate::store::backoff(attempt)).await;
                }
                Err(e) => return Err(conflict(e, "registration failed")),
            }
        }
        Err(RecordError::Busy(
            "too many registrations at once; try again in a moment".into(),
        ))
    }

    /// Cancels the registration of `email` for `event_id`, with `extra` writes (such as
    /// removing its cancel link) in the same transaction. A confirmed place that frees up
    /// goes to the longest-waiting registration, which is returned with `mail` for it
    /// written too. `Ok(None)` also when there was nothing to cancel.
    pub async fn cancel(
        &self,
        event_id: &str,
        email: &str,
        extra: Vec<Write>,
        mail: impl Fn(&Registration) -> Option<Mail>,
    ) -> RecordResult<Option<Registration>> {
        let seats_key = Key::new(format!("EVENT#{event_id}"), "SEATS");
        let reg_key = Key::new(
            format!("EVENT#{event_id}"),
            format!("REG#{}", email_key(email)),
        );
        for attempt in 1..=RETRIES {
            let Some(reg_item) = self.store.get(&reg_key).await? else {
                return Ok(None);
            };
            let reg = from_item::<Registration>(&self.store.name(), reg_item)?;
            let Some(seats_item) = self.store.get(&seats_key).await? else {
                return Ok(None);
            };
            let seats = from_item::<Seats>(&self.store.name(), seats_item)?;
            let mut count = seats.record.clone();
            let mut writes = vec![Write::Delete(reg_key.clone(), Cond::Version(reg.version))];
            let mut promoted = None;
            if reg.record.status == RegistrationStatus::Confirmed {
                let waiting = self
                    .registrations(event_id)
                    .await?
                    .into_iter()
                    .filter(|r| r.status == RegistrationStatus::Waiting)
                    .min_by_key(|r| r.created);
                match waiting {
                    Some(mut next) => {
                        count.waiting = count.waiting.saturating_sub(1);
                        next.status = RegistrationStatus::Confirmed;
                        writes.push(Write::Put(to_item(&next)?, Cond::Exists));
                        if let Some(m) = mail(&next) {
                            writes.push(Write::Put(to_item(&m)?, Cond::NotExists));
                        }
                        promoted = Some(next);
                    }
                    None => count.taken = count.taken.saturating_sub(1),
                }
            } else {
                count.waiting = count.waiting.saturating_sub(1);
            }
            writes.push(Write::Put(to_item(&count)?, Cond::Version(seats.version)));
            writes.extend(extra.iter().cloned());
            match self.store.transact(writes).await {
                Ok(()) => return Ok(promoted),
                Err(StoreError::TransactionCancelled { .. }) => {
                    tokio::time::sleep(crate::store::backoff(attempt)).await;
                }
                Err(e) => return Err(conflict(e, "cancellation failed")),
            }
        }
        Err(RecordError::Busy(
            "too many changes at once; try again in a moment".into(),
        ))
    }

    /// The seat count of an event (1 request).
    pub async fn seats(&self, event_id: &str) -> RecordResult<Option<Seats>> {
        match self
            .store
            .get(&Key::new(format!("EVENT#{event_id}"), "SEATS"))
            .await?
        {
            Some(item) => Ok(Some(from_item(&self.store.name(), item)?.record)),
            None => Ok(None),
        }
    }

    /// `email`'s registration for `event_id`, if any (1 request).
    pub async fn registration(
        &self,
        event_id: &str,
        email: &str,
    ) -> RecordResult<Option<Versioned<Registration>>> {
        match self
            .store
            .get(&Registration::key_of(event_id, email))
            .await?
        {
            Some(item) => Ok(Some(from_item(&self.store.name(), item)?)),
            None => Ok(None),
        }
    }

    /// Records that the person of `registration` came (`Some(when)`) or takes it back
    /// (`None`), with `extra` writes, only while the registration is as read (1 request).
    pub async fn set_checked_in(
        &self,
        registration: &Versioned<Registration>,
        at: Option<i64>,
        extra: Vec<Write>,
    ) -> RecordResult<Registration> {
        let mut changed = registration.record.clone();
        changed.checked_in = at;
        let mut writes = vec![Write::Put(
            to_item(&changed)?,
            Cond::Version(registration.version),
        )];
        writes.extend(extra);
        self.store
            .transact(writes)
            .await
            .map_err(|e| conflict(e, "the registration changed meanwhile; try again"))?;
        Ok(changed)
    }

    /// Every registration of an event (1 request per 1,000).
    pub async fn registrations(&self, event_id: &str) -> RecordResult<Vec<Registration>> {
        let repo: Repo<Registration> = Repo::new(self.store.clone());
        Ok(repo
            .list(&format!("EVENT#{event_id}"), "REG#", 1000, None, false)
            .await?
            .0)
    }
}
