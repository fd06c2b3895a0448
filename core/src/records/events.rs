//! Event registrations with a capacity and a waiting list, one per person and event, and
//! newsletter subscriptions.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::outbox::Mail;
use super::{conflict, email_key, from_item, to_item, Record, RecordError, RecordResult, Repo};
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
}

impl Record for Registration {
    fn key(&self) -> Key {
        Key::new(
            format!("EVENT#{}", self.event_id),
            format!("REG#{}", email_key(&self.email)),
        )
    }
}

const RETRIES: usize = 50;

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
        mut registration: Registration,
        capacity: u32,
        mail: impl Fn(&Registration) -> Option<Mail>,
    ) -> RecordResult<Registration> {
        let seats_key = Key::new(format!("EVENT#{}", registration.event_id), "SEATS");
        for _ in 0..RETRIES {
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
            if let Some(m) = mail(&registration) {
                writes.push(Write::Put(to_item(&m)?, Cond::NotExists));
            }
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
                Err(StoreError::TransactionCancelled { .. }) => continue,
                Err(e) => return Err(conflict(e, "registration failed")),
            }
        }
        Err(RecordError::Conflict(
            "too many registrations at once; try again".into(),
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

    /// Every registration of an event (1 request per 1,000).
    pub async fn registrations(&self, event_id: &str) -> RecordResult<Vec<Registration>> {
        let repo: Repo<Registration> = Repo::new(self.store.clone());
        Ok(repo
            .list(&format!("EVENT#{event_id}"), "REG#", 1000, None, false)
            .await?
            .0)
    }
}
