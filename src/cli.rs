//! The command line: subcommands and their options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Customer Portal: a self-service portal for your customers.
#[derive(Debug, Parser)]
#[command(name = "portal", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the public site and its search index from the content folder.
    Build(SiteArgs),
    /// Check the content and theme as a build does (front matter, links, templates) without
    /// publishing anything; exits non-zero naming each problem.
    Check(SiteArgs),
    /// Build, serve on 127.0.0.1 and rebuild whenever content or theme change.
    Serve {
        #[command(flatten)]
        site: SiteArgs,
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The store the functions use: `sqlite:PATH` or `dynamodb:TABLE` (created if
        /// missing); the embedded store in the data folder by default.
        #[arg(long)]
        store: Option<String>,
        /// Seed the demo customers (with their published passwords) into an empty store
        /// given with `--store` too; the default embedded store always gets them when empty.
        #[arg(long)]
        demo: bool,
        /// Reload open pages in the browser after each rebuild (for editors: adds a small
        /// script to every page).
        #[arg(long)]
        live_reload: bool,
        /// The address to listen on: 127.0.0.1 by default; `0.0.0.0` or `::` for every
        /// interface (the demo logins' passwords are public: use `--store` then).
        #[arg(long, default_value = "127.0.0.1")]
        interface: std::net::IpAddr,
        /// The address links in pages, feeds and mails point to instead of `base_url` in
        /// `site.toml`, e.g. `http://localhost:8080`, so a link in a mail opened locally works.
        #[arg(long, value_parser = absolute_url)]
        base_url: Option<String>,
    },
    /// Build and assemble the functions' bundle in OUT/bundle/site: what the Lambda functions
    /// read (site data, search indexes, private pages, theme), shipped as a layer.
    Bundle(SiteArgs),
    /// Build, upload the public site to its S3 bucket (content types, cache headers; files the
    /// build no longer has are removed), assemble the functions' bundle in OUT/bundle and,
    /// given the distribution, empty CloudFront's cache of the changed pages.
    DeploySite {
        #[command(flatten)]
        site: SiteArgs,
        /// The site bucket (the `SiteBucketName` output of the AWS template).
        #[arg(long)]
        bucket: String,
        /// The CloudFront distribution in front of the bucket (the `DistributionId` output).
        #[arg(long)]
        distribution: Option<String>,
    },
    /// Manage the data store: create it, export it, import into it.
    Admin {
        /// The store: `sqlite:PATH` (embedded) or `dynamodb:TABLE` (AWS settings from the
        /// environment; `AWS_ENDPOINT_URL` for a local server).
        #[arg(long, global = true, default_value = "sqlite:.portal/portal.db")]
        store: String,
        /// What to do.
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Search the built index and print ranked hits.
    Search {
        /// What to look for.
        query: String,
        /// The index folder written by `portal build`.
        #[arg(long, default_value = "dist/search")]
        index: PathBuf,
        /// Only hits in this topic or category.
        #[arg(long)]
        topic: Option<String>,
        /// How many hits to print.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Staff commands on the data store.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create the table (DynamoDB) or the file (SQLite) if missing.
    Init,
    /// Write every record to FILE as JSON Lines (`-` for standard output) and every uploaded
    /// file to the folder FILE.files, with their SHA-256 sums in FILE.files/SHA256SUMS.
    Export {
        /// Where to write.
        file: PathBuf,
        /// The folder for the files (FILE.files by default; needed with `-`).
        #[arg(long)]
        files: Option<PathBuf>,
        /// Where the files are: `folder:PATH` or `s3:BUCKET` (the `AttachmentsBucketName` output
        /// of the AWS template); by default the `blobs` folder beside an embedded store.
        #[arg(long)]
        blobs: Option<String>,
        /// Export the records alone, without the files.
        #[arg(long, conflicts_with_all = ["files", "blobs"])]
        no_files: bool,
    },
    /// Read an export into the store: first its files (FILE.files, each checked against
    /// SHA256SUMS before any is written) into the blob store, then its records; stops,
    /// writing nothing more, at a record that already exists.
    Import {
        /// What to read.
        file: PathBuf,
        /// The folder with the files (FILE.files by default, if it exists).
        #[arg(long)]
        files: Option<PathBuf>,
        /// Where the files go: `folder:PATH` or `s3:BUCKET`; by default the `blobs` folder
        /// beside an embedded store.
        #[arg(long)]
        blobs: Option<String>,
    },
    /// List the customer accounts (id, number, name).
    Customers,
    /// Create a login for EMAIL in a customer account and mail it a single-use activation
    /// link (valid 72 hours) to choose a password; staff never choose or see one.
    Invite {
        /// The address of the person who will log in.
        email: String,
        /// The customer account (an id from `portal admin customers`).
        #[arg(long)]
        customer: String,
        /// The person's name, for a new contact.
        #[arg(long)]
        name: Option<String>,
        /// The content folder, whose `site.toml` gives the links' address.
        #[arg(long, default_value = "content")]
        content: PathBuf,
    },
    /// Write the words the desk's queue searches (descriptions and notes) for every issue:
    /// once after upgrading, for issues filed before they were kept. Safe to run again.
    IndexIssues,
    /// Disable the login for EMAIL and end every one of its sessions at once.
    Disable {
        /// The login's address.
        email: String,
    },
    /// Members of staff, who log in to the desk (`/desk/`).
    Staff {
        /// What to do.
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Keys of the staff and integration API (`/api/staff/…`).
    Keys {
        /// What to do.
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Webhook endpoints: signed deliveries of the change feed's events (Standard Webhooks).
    Webhooks {
        /// What to do.
        #[command(subcommand)]
        command: WebhooksCommand,
    },
}

/// Webhook endpoints.
#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Add an endpoint at URL and print its signing secret, once.
    Add {
        /// Where deliveries are posted: an https:// address on the public internet.
        url: String,
        /// The event types it hears of, repeated or comma-separated: `*` (all), a type
        /// (`issue.filed`) or a family (`issue.*`).
        #[arg(long = "events", required = true, value_delimiter = ',')]
        events: Vec<String>,
        /// Who is mailed when the endpoint is disabled after failing for three days
        /// (otherwise the business's address from the content's `site.toml`).
        #[arg(long)]
        notify: Option<String>,
        /// The content folder, whose `site.toml` gives the business's address.
        #[arg(long, default_value = "content")]
        content: PathBuf,
        /// Allow a plain-http loopback address (http://127.0.0.1:PORT/…), for local
        /// development only.
        #[arg(long)]
        allow_loopback: bool,
    },
    /// List the endpoints: id, URL, events, state.
    List,
    /// Remove the endpoint ID; what is waiting for it is dropped.
    Remove {
        /// The endpoint's id (`ep_…`).
        id: String,
    },
    /// Stop delivering to the endpoint ID until it is enabled again.
    Disable {
        /// The endpoint's id.
        id: String,
    },
    /// Deliver to the endpoint ID again (also after it was disabled for failing).
    Enable {
        /// The endpoint's id.
        id: String,
    },
    /// List the latest attempts to reach the endpoint ID, newest first.
    Attempts {
        /// The endpoint's id.
        id: String,
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Send a `webhook.test` message to the endpoint ID now and say how it answered.
    Test {
        /// The endpoint's id.
        id: String,
    },
}

/// Keys of the staff API.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a key called NAME and print its secret, once: only its hash is kept.
    Create {
        /// A name for the key (it is audited under it), e.g. `crm-sync`.
        name: String,
        /// What it may do, as AREA:read or AREA:write, repeated or comma-separated (areas:
        /// customers, billing, quotes, projects, documents, reports, issues, registrations,
        /// changes).
        #[arg(long = "scope", required = true, value_delimiter = ',')]
        scopes: Vec<String>,
    },
    /// List the keys: name, scopes, created, last used, revoked.
    List,
    /// Revoke the key called NAME: refused from its next request on.
    Revoke {
        /// The key's name.
        name: String,
    },
}

/// `portal admin staff …`.
#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Add a member of staff and mail them a link to choose their password (the first admin
    /// comes from here; admins add the rest on the desk).
    Add {
        /// Their e-mail address.
        email: String,
        /// What they may do: `agent` (issues), `manager` (also customers, billing, events,
        /// newsletters), `admin` (also staff, API keys, webhooks; needs a second factor).
        #[arg(long)]
        role: String,
        /// Their name, as colleagues see it.
        #[arg(long, default_value = "")]
        name: String,
        /// The content folder, whose `site.toml` gives the link's address.
        #[arg(long, default_value = "content")]
        content: PathBuf,
    },
    /// List the members: address, name, role, state.
    List,
}

/// Where the content, theme and output are.
#[derive(Debug, Args, Clone)]
pub struct SiteArgs {
    /// The content folder (with `site.toml`).
    #[arg(long, default_value = "content")]
    pub content: PathBuf,
    /// The theme folder.
    #[arg(long, default_value = "themes/default")]
    pub theme: PathBuf,
    /// The output folder; `site/` and `search/` are written inside it.
    #[arg(long, default_value = "dist")]
    pub out: PathBuf,
    /// Where `portal serve` keeps its data: the embedded store (`portal.db`) and delivered
    /// mail (`outbox/*.eml`).
    #[arg(long, default_value = ".portal")]
    pub data: PathBuf,
    /// Refuse front-matter keys the portal does not read (by default they are warnings,
    /// and the keys Zola and Hugo define are accepted without a word).
    #[arg(long)]
    pub strict: bool,
}

/// An absolute `http` or `https` URL, for `--base-url`.
fn absolute_url(s: &str) -> Result<String, String> {
    let ok = ["http://", "https://"]
        .iter()
        .any(|p| s.strip_prefix(p).is_some_and(|rest| !rest.is_empty()));
    if ok && !s.contains(char::is_whitespace) {
        Ok(s.trim_end_matches('/').to_string())
    } else {
        Err(format!(
            "`{s}` is not an absolute http(s) URL such as http://localhost:8080"
        ))
    }
}
