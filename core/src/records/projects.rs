//! Projects shared with a customer: tasks with progress, documents, notes and related
//! contacts. Hidden tasks and notes are for staff only.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{conflict, from_item, to_item, Record, RecordError, RecordResult, Repo, Versioned};
use crate::store::{Cond, Key, Store, StoreError, Write};

/// A project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// The customer.
    pub customer_id: String,
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// Short description.
    #[serde(default)]
    pub description: String,
    /// `planned`, `active`, `done` …
    pub status: String,
}

impl Project {
    /// Where project `id` of `customer_id` is kept.
    pub fn key_of(customer_id: &str, id: &str) -> Key {
        Key::new(format!("CUSTOMER#{customer_id}"), format!("PROJECT#{id}"))
    }
}

impl Record for Project {
    fn key(&self) -> Key {
        Project::key_of(&self.customer_id, &self.id)
    }
}

/// Everything a project holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectParts {
    /// Its tasks (hidden ones too: the caller decides who sees them).
    pub tasks: Vec<Task>,
    /// Its documents.
    pub documents: Vec<ProjectDocument>,
    /// Its notes (hidden ones too).
    pub notes: Vec<ProjectNote>,
    /// Its contacts.
    pub contacts: Vec<ProjectContact>,
}

/// Projects and what they hold, always within one customer's records.
#[derive(Debug, Clone)]
pub struct Projects {
    store: Arc<dyn Store>,
}

impl Projects {
    /// The repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Projects { store }
    }

    /// Project `id` of `customer_id`, if that customer has it (1 request).
    pub async fn get(&self, customer_id: &str, id: &str) -> RecordResult<Option<Project>> {
        Ok(Repo::<Project>::new(self.store.clone())
            .get(&Project::key_of(customer_id, id))
            .await?
            .map(|p| p.record))
    }

    /// The projects of `customer_id` (1 request).
    pub async fn of_customer(&self, customer_id: &str) -> RecordResult<Vec<Project>> {
        Ok(Repo::new(self.store.clone())
            .list(
                &format!("CUSTOMER#{customer_id}"),
                "PROJECT#",
                100,
                None,
                false,
            )
            .await?
            .0)
    }

    /// The documents of `project` (1 request).
    pub async fn documents(&self, project: &Project) -> RecordResult<Vec<ProjectDocument>> {
        self.children(project, "DOC#").await
    }

    /// Everything `project` holds, from one read of its partition (1 request per 1,000
    /// items).
    pub async fn parts(&self, project: &Project) -> RecordResult<ProjectParts> {
        let pk = children_pk(&project.customer_id, &project.id);
        let within = Projects {
            store: Arc::new(crate::store::Snapshot::of(self.store.clone(), &pk).await?),
        };
        Ok(ProjectParts {
            tasks: within.children(project, "TASK#").await?,
            documents: within.children(project, "DOC#").await?,
            notes: within.children(project, "NOTE#").await?,
            contacts: within.children(project, "CONTACT#").await?,
        })
    }

    /// Creates or replaces `project` (its name, description and status) with `extra` in one
    /// transaction; the customer must exist. Returns whether it is new (2 requests).
    pub async fn put(&self, project: &Project, extra: Vec<Write>) -> RecordResult<bool> {
        let old = self.store.get(&project.key()).await?;
        let cond = match &old {
            Some(item) => {
                let found: Versioned<Project> = from_item(&self.store.name(), item.clone())?;
                if found.record == *project {
                    return Ok(false);
                }
                Cond::Version(found.version)
            }
            None => Cond::NotExists,
        };
        let mut writes = vec![
            Write::Check(
                Key::new(format!("CUSTOMER#{}", project.customer_id), "PROFILE"),
                Cond::Exists,
            ),
            Write::Put(to_item(project)?, cond),
        ];
        writes.extend(extra);
        self.write(writes, &format!("customer {}", project.customer_id))
            .await?;
        Ok(old.is_none())
    }

    /// Creates or replaces the task with `task.id` (moving it when its position changed),
    /// with `extra`; the project must exist. Returns whether it is new (2 requests).
    pub async fn put_task(&self, task: &Task, extra: Vec<Write>) -> RecordResult<bool> {
        let pk = children_pk(&task.customer_id, &task.project_id);
        let page = self
            .store
            .query(
                &crate::store::Query::partition(&pk)
                    .prefix("TASK#")
                    .limit(1000),
            )
            .await?;
        let name = self.store.name();
        let mut old: Option<Versioned<Task>> = None;
        for item in page.items {
            let t: Versioned<Task> = from_item(&name, item)?;
            if t.record.id == task.id {
                old = Some(t);
            }
        }
        let mut writes = vec![Write::Check(
            Project::key_of(&task.customer_id, &task.project_id),
            Cond::Exists,
        )];
        match &old {
            Some(o) if o.record == *task => return Ok(false),
            Some(o) if o.record.key() == task.key() => {
                writes.push(Write::Put(to_item(task)?, Cond::Version(o.version)));
            }
            Some(o) => {
                writes.push(Write::Delete(o.record.key(), Cond::Version(o.version)));
                writes.push(Write::Put(to_item(task)?, Cond::NotExists));
            }
            None => writes.push(Write::Put(to_item(task)?, Cond::NotExists)),
        }
        writes.extend(extra);
        self.write(writes, &format!("project {}", task.project_id))
            .await?;
        Ok(old.is_none())
    }

    /// Adds `note` to its project, with `extra`; the project must exist (1 transaction).
    pub async fn add_note(&self, note: &ProjectNote, extra: Vec<Write>) -> RecordResult<()> {
        let mut writes = vec![
            Write::Check(
                Project::key_of(&note.customer_id, &note.project_id),
                Cond::Exists,
            ),
            Write::Put(to_item(note)?, Cond::NotExists),
        ];
        writes.extend(extra);
        self.write(writes, &format!("project {}", note.project_id))
            .await
    }

    /// Creates or replaces `contact` of its project, with `extra`; the project must exist
    /// (1 transaction).
    pub async fn put_contact(
        &self,
        contact: &ProjectContact,
        extra: Vec<Write>,
    ) -> RecordResult<()> {
        let mut writes = vec![
            Write::Check(
                Project::key_of(&contact.customer_id, &contact.project_id),
                Cond::Exists,
            ),
            Write::Put(to_item(contact)?, Cond::None),
        ];
        writes.extend(extra);
        self.write(writes, &format!("project {}", contact.project_id))
            .await
    }

    /// Writes `writes`, whose first is the check that `parent` exists.
    async fn write(&self, writes: Vec<Write>, parent: &str) -> RecordResult<()> {
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionCancelled { failed })
                if failed.iter().any(|(i, _)| *i == 0) =>
            {
                Err(RecordError::NotFound(parent.to_string()))
            }
            Err(e) => Err(conflict(
                e,
                format!("{parent} changed meanwhile; try again"),
            )),
        }
    }

    async fn children<R: Record>(&self, project: &Project, prefix: &str) -> RecordResult<Vec<R>> {
        Ok(Repo::new(self.store.clone())
            .list(
                &children_pk(&project.customer_id, &project.id),
                prefix,
                1000,
                None,
                false,
            )
            .await?
            .0)
    }
}

/// The partition of a project's tasks, documents, notes and contacts:
/// `PROJECT#{customer}#{project}`.
pub fn children_pk(customer_id: &str, project_id: &str) -> String {
    format!("PROJECT#{customer_id}#{project_id}")
}

/// A task of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// The customer whose project it is: part of the key, so two customers' projects
    /// with the same id never share anything.
    #[serde(default)]
    pub customer_id: String,
    /// The project.
    pub project_id: String,
    /// Identifier.
    pub id: String,
    /// Title.
    pub title: String,
    /// Progress, 0 to 100.
    pub progress: u8,
    /// Hidden tasks are never sent to customers.
    #[serde(default)]
    pub hidden: bool,
    /// Order.
    #[serde(default)]
    pub position: u32,
}

impl Record for Task {
    fn key(&self) -> Key {
        Key::new(
            children_pk(&self.customer_id, &self.project_id),
            format!("TASK#{:06}#{}", self.position, self.id),
        )
    }
}

/// A document of a project (the bytes live in blob storage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectDocument {
    /// The customer whose project it is: part of the key, so two customers' projects
    /// with the same id never share anything.
    #[serde(default)]
    pub customer_id: String,
    /// The project.
    pub project_id: String,
    /// Identifier, also the blob key.
    pub id: String,
    /// File name as uploaded.
    pub file_name: String,
    /// Media type found by content.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// Unix seconds.
    pub created: i64,
    /// The note it came with, if it came with one: shown under that note, and never to a
    /// customer while the note is hidden.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Record for ProjectDocument {
    fn key(&self) -> Key {
        Key::new(
            children_pk(&self.customer_id, &self.project_id),
            format!("DOC#{:012}#{}", self.created, self.id),
        )
    }
}

/// A note on a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectNote {
    /// The customer whose project it is: part of the key, so two customers' projects
    /// with the same id never share anything.
    #[serde(default)]
    pub customer_id: String,
    /// The project.
    pub project_id: String,
    /// Identifier.
    pub id: String,
    /// Author.
    pub author: String,
    /// Text.
    pub body: String,
    /// Hidden notes are never sent to customers.
    #[serde(default)]
    pub hidden: bool,
    /// Unix seconds.
    pub created: i64,
}

impl Record for ProjectNote {
    fn key(&self) -> Key {
        Key::new(
            children_pk(&self.customer_id, &self.project_id),
            format!("NOTE#{:012}#{}", self.created, self.id),
        )
    }
}

/// A person related to a project (from the customer or the business).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectContact {
    /// The customer whose project it is: part of the key, so two customers' projects
    /// with the same id never share anything.
    #[serde(default)]
    pub customer_id: String,
    /// The project.
    pub project_id: String,
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// Role in the project.
    pub role: String,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
}

impl Record for ProjectContact {
    fn key(&self) -> Key {
        Key::new(
            children_pk(&self.customer_id, &self.project_id),
            format!("CONTACT#{}", self.id),
        )
    }
}
