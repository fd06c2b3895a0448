//! Projects shared with a customer: tasks with progress, documents, notes and related
//! contacts. Hidden tasks and notes are for staff only.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Record, RecordResult, Repo};
use crate::store::{Key, Store};

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

    /// Everything `project` holds (4 requests).
    pub async fn parts(&self, project: &Project) -> RecordResult<ProjectParts> {
        Ok(ProjectParts {
            tasks: self.children(project, "TASK#").await?,
            documents: self.children(project, "DOC#").await?,
            notes: self.children(project, "NOTE#").await?,
            contacts: self.children(project, "CONTACT#").await?,
        })
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
