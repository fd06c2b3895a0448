//! The DynamoDB backend: one table with string keys `pk` and `sk`, the record in a map
//! attribute `data`, the version in `v` and the expiry in `ttl` (the table's TTL attribute).
//! A counter written by [`Store::increment`] or [`Write::Add`] keeps its count in the
//! top-level number `cn` and its field's name in `cf` (a new item has no `data` map for an
//! `ADD data.field` to land in, and one call has to create and count); reading adds `cn` to
//! `data[cf]`, and every put folds it back by writing `data` whole and removing both.
//!
//! Every write is one `UpdateItem` (or one `DeleteItem`), every read one `GetItem` or one
//! `Query`/`Scan` page, every transaction one `TransactWriteItems`: a bounded number of requests
//! per call. Endpoint, region and credentials come from the usual AWS environment and config
//! (`AWS_ENDPOINT_URL` points it at a local server); throttling is retried with backoff.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, KeySchemaElement,
    KeyType, ReturnValue, ScalarAttributeType, TimeToLiveSpecification, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;

use super::{
    check_limit, check_transaction, now, parse_scan_cursor, scan_cursor, Attrs, Cond, Cursor, Item,
    Key, Page, Query, SkRange, Store, StoreError, StoreResult, Tally, Write,
};

/// The DynamoDB store.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table", &self.table)
            .finish()
    }
}

impl DynamoStore {
    /// A store over `table`, configured from the environment.
    pub async fn from_env(table: &str) -> DynamoStore {
        let config = crate::aws::loader()
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(5))
            .load()
            .await;
        DynamoStore::new(Client::new(&config), table)
    }

    /// A store over `table` with a ready client.
    pub fn new(client: Client, table: &str) -> DynamoStore {
        DynamoStore {
            client,
            table: table.to_string(),
        }
    }

    fn err<E, R>(&self, e: SdkError<E, R>, key: Option<&Key>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let code = e.code().unwrap_or("").to_string();
        match (code.as_str(), key) {
            ("ConditionalCheckFailedException", Some(k)) => {
                StoreError::ConditionFailed { key: k.clone() }
            }
            ("ResourceNotFoundException", _) => StoreError::Backend {
                store: self.name(),
                message: format!(
                    "table `{}` does not exist; run `portal admin init`",
                    self.table
                ),
            },
            _ => StoreError::Backend {
                store: self.name(),
                message: format!(
                    "{}{}",
                    DisplayErrorContext(&e),
                    key.map(|k| format!(" (item {k})")).unwrap_or_default()
                ),
            },
        }
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key_attrs(k: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_string(), s(&k.pk)), ("sk".to_string(), s(&k.sk))])
}

/// The condition expression for `cond`, with the names and values it uses.
fn condition(cond: Cond, now: i64) -> Option<(String, HashMap<String, AttributeValue>)> {
    let live = "(attribute_exists(pk) AND (attribute_not_exists(#t) OR #t > :now))";
    match cond {
        Cond::None => None,
        Cond::NotExists => Some((
            "(attribute_not_exists(pk) OR #t <= :now)".into(),
            HashMap::from([(":now".into(), n(now))]),
        )),
        Cond::Exists => Some((live.into(), HashMap::from([(":now".into(), n(now))]))),
        Cond::Version(v) => Some((
            format!("{live} AND #v = :expected"),
            HashMap::from([(":now".into(), n(now)), (":expected".into(), n(v as i64))]),
        )),
    }
}

/// The top-level attribute that holds a counter's count.
const COUNT: &str = "cn";
/// The top-level attribute that names the counter's field in `data`.
const COUNT_FIELD: &str = "cf";

/// The update that steps the counter `t` in one call, creating its item if needed: the
/// expression, names, values and condition. The condition fails on an item that has expired
/// but is still stored, on an item whose `cn` counts another field, and past the ceiling.
fn tally_parts(t: &Tally, now: i64) -> (UpdateParts, String) {
    let mut expression =
        "SET #v = if_not_exists(#v, :zero) + :one, #d = if_not_exists(#d, :empty), \
         #cf = :f"
            .to_string();
    let mut values = HashMap::from([
        (":zero".to_string(), n(0)),
        (":one".into(), n(1)),
        (":empty".into(), AttributeValue::M(HashMap::new())),
        (":f".into(), s(&t.field)),
        (":by".into(), n(t.by)),
        (":now".into(), n(now)),
        (":num".into(), s("N")),
    ]);
    if let Some(at) = t.expires_at {
        expression.push_str(", #t = if_not_exists(#t, :ttl)");
        values.insert(":ttl".into(), n(at));
    }
    expression.push_str(" ADD #cn :by");
    // A field that is there must be a number, or reading the item back would fail.
    let mut condition = "(attribute_not_exists(#t) OR #t > :now) AND (attribute_not_exists(#cf) \
         OR #cf = :f) AND (attribute_not_exists(#d.#f) OR attribute_type(#d.#f, :num))"
        .to_string();
    let names = HashMap::from([
        ("#d".to_string(), "data".to_string()),
        ("#v".into(), "v".into()),
        ("#t".into(), "ttl".into()),
        ("#cn".into(), COUNT.into()),
        ("#cf".into(), COUNT_FIELD.into()),
        ("#f".into(), t.field.clone()),
    ]);
    if let Some(max) = t.at_most {
        // count + by <= max; a missing count is 0. A count kept in `data` (put there by a
        // whole-item write) cannot be compared here, so it fails the step.
        let limit = max.saturating_sub(t.by);
        condition.push_str(if limit >= 0 {
            " AND (attribute_not_exists(#cn) OR #cn <= :lim) AND attribute_not_exists(#d.#f)"
        } else {
            " AND #cn <= :lim AND attribute_not_exists(#d.#f)"
        });
        values.insert(":lim".into(), n(limit));
    }
    (
        UpdateParts {
            expression,
            names,
            values,
        },
        condition,
    )
}

/// The update that writes `item`: data and expiry set, version increased by one.
struct UpdateParts {
    expression: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn update_parts(
    item: &Item,
    cond: Cond,
    now: i64,
    store: &str,
    restore: bool,
) -> StoreResult<(UpdateParts, Option<String>)> {
    let data = serde_dynamo::to_attribute_value(&item.data).map_err(|e| StoreError::Backend {
        store: store.to_string(),
        message: format!("item {} cannot be encoded: {e}", item.key()),
    })?;
    let mut values = HashMap::from([
        (":d".to_string(), data),
        (":one".into(), n(1)),
        (":zero".into(), n(0)),
    ]);
    let mut expression = if restore {
        values.insert(":ver".into(), n(item.version.max(1) as i64));
        values.remove(":one");
        values.remove(":zero");
        "SET #d = :d, #v = :ver".to_string()
    } else if cond == Cond::NotExists {
        // A new item is at version 1, also where it replaces an expired one.
        values.remove(":zero");
        "SET #d = :d, #v = :one".to_string()
    } else {
        "SET #d = :d, #v = if_not_exists(#v, :zero) + :one".to_string()
    };
    match item.expires_at {
        Some(t) => {
            expression.push_str(", #t = :t REMOVE #cn, #cf");
            values.insert(":t".into(), n(t));
        }
        None => expression.push_str(" REMOVE #t, #cn, #cf"),
    }
    let names = HashMap::from([
        ("#d".to_string(), "data".to_string()),
        ("#v".into(), "v".into()),
        ("#t".into(), "ttl".into()),
        ("#cn".into(), COUNT.into()),
        ("#cf".into(), COUNT_FIELD.into()),
    ]);
    let cond_expr = condition(cond, now).map(|(e, v)| {
        values.extend(v);
        e
    });
    Ok((
        UpdateParts {
            expression,
            names,
            values,
        },
        cond_expr,
    ))
}

fn decode_all(
    store: &str,
    items: Option<Vec<HashMap<String, AttributeValue>>>,
) -> StoreResult<Vec<Item>> {
    items
        .unwrap_or_default()
        .into_iter()
        .map(|a| decode(store, a))
        .collect()
}

fn decode(store: &str, mut attrs: HashMap<String, AttributeValue>) -> StoreResult<Item> {
    let text = |attrs: &HashMap<String, AttributeValue>, k: &str| {
        attrs
            .get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let key = Key::new(text(&attrs, "pk"), text(&attrs, "sk"));
    let bad = |message: String| StoreError::Decode {
        store: store.to_string(),
        key: key.clone(),
        message,
    };
    let number = |v: Option<&AttributeValue>| -> Option<i64> {
        v.and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
    };
    let version = number(attrs.get("v")).ok_or_else(|| bad("no version".into()))?;
    let expires_at = number(attrs.get("ttl"));
    let mut data: Attrs = match attrs.remove("data") {
        Some(d) => serde_dynamo::from_attribute_value(d).map_err(|e| bad(e.to_string()))?,
        None => return Err(bad("no data".into())),
    };
    if let Some(field) = attrs.get(COUNT_FIELD).and_then(|f| f.as_s().ok()) {
        let count = number(attrs.get(COUNT)).unwrap_or(0);
        let before = match data.get(field) {
            None => 0,
            Some(v) => v
                .as_i64()
                .ok_or_else(|| bad(format!("`{field}` is not a whole number")))?,
        };
        data.insert(field.clone(), (before + count).into());
    }
    Ok(Item {
        pk: key.pk.clone(),
        sk: key.sk.clone(),
        version: version as u64,
        expires_at,
        data,
    })
}

#[async_trait]
impl Store for DynamoStore {
    fn name(&self) -> String {
        format!("dynamodb:{}", self.table)
    }

    fn remote(&self) -> bool {
        true
    }

    async fn init(&self) -> StoreResult<()> {
        let exists = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await;
        if exists.is_err() {
            let attr = |name: &str| {
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
            };
            let key = |name: &str, kind| {
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(kind)
                    .build()
            };
            let built = (|| {
                Ok::<_, aws_sdk_dynamodb::error::BuildError>((
                    attr("pk")?,
                    attr("sk")?,
                    key("pk", KeyType::Hash)?,
                    key("sk", KeyType::Range)?,
                ))
            })();
            let (a_pk, a_sk, k_pk, k_sk) = built.map_err(|e| StoreError::Backend {
                store: self.name(),
                message: e.to_string(),
            })?;
            self.client
                .create_table()
                .table_name(&self.table)
                .attribute_definitions(a_pk)
                .attribute_definitions(a_sk)
                .key_schema(k_pk)
                .key_schema(k_sk)
                .billing_mode(BillingMode::PayPerRequest)
                .send()
                .await
                .map_err(|e| self.err(e, None))?;
        }
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name("ttl")
            .enabled(true)
            .build()
            .map_err(|e| StoreError::Backend {
                store: self.name(),
                message: e.to_string(),
            })?;
        // Turning TTL on twice is an error on AWS; only the first call matters.
        let _ = self
            .client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(ttl)
            .send()
            .await;
        Ok(())
    }

    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err(e, Some(key)))?;
        match out.item {
            Some(attrs) => {
                let item = decode(&self.name(), attrs)?;
                Ok((!item.expired(now())).then_some(item))
            }
            None => Ok(None),
        }
    }

    async fn put(&self, item: Item, cond: Cond) -> StoreResult<u64> {
        let (parts, cond_expr) = update_parts(&item, cond, now(), &self.name(), false)?;
        let key = item.key();
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(&key)))
            .update_expression(parts.expression)
            .set_condition_expression(cond_expr)
            .set_expression_attribute_names(Some(parts.names))
            .set_expression_attribute_values(Some(parts.values))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| self.err(e, Some(&key)))?;
        let version = out
            .attributes
            .as_ref()
            .and_then(|a| a.get("v"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        Ok(version)
    }

    async fn delete(&self, key: &Key, cond: Cond) -> StoreResult<()> {
        let mut req = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)));
        if let Some((expr, values)) = condition(cond, now()) {
            req = req
                .condition_expression(expr)
                .set_expression_attribute_values(Some(values))
                .set_expression_attribute_names(Some(cond_names(cond)));
        }
        req.send().await.map_err(|e| self.err(e, Some(key)))?;
        Ok(())
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        check_limit(query.limit)?;
        let mut values =
            HashMap::from([(":pk".to_string(), s(&query.pk)), (":now".into(), n(now()))]);
        let key_expr = match &query.range {
            SkRange::All => "pk = :pk".to_string(),
            SkRange::Prefix(p) => {
                values.insert(":p".into(), s(p));
                "pk = :pk AND begins_with(sk, :p)".into()
            }
            SkRange::Between(a, b) => {
                values.insert(":a".into(), s(a));
                values.insert(":b".into(), s(b));
                "pk = :pk AND sk BETWEEN :a AND :b".into()
            }
        };
        let start = match super::start_of(query)? {
            super::Start::Beginning => None,
            super::Start::After(sk) => Some(key_attrs(&Key::new(&query.pk, sk))),
            super::Start::Nothing => {
                return Ok(Page {
                    items: Vec::new(),
                    next: None,
                })
            }
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(key_expr)
            .filter_expression("attribute_not_exists(#t) OR #t > :now")
            .expression_attribute_names("#t", "ttl")
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(!query.descending)
            .limit(query.limit as i32)
            .set_exclusive_start_key(start)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err(e, None))?;
        let items = decode_all(&self.name(), out.items)?;
        let next = out
            .last_evaluated_key
            .and_then(|k| k.get("sk").and_then(|v| v.as_s().ok()).cloned())
            .map(|sk| Cursor::after_sk(&sk));
        Ok(Page { items, next })
    }

    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        check_transaction(&writes)?;
        let now = now();
        let mut items = Vec::with_capacity(writes.len());
        let build_err = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Backend {
            store: self.name(),
            message: e.to_string(),
        };
        let update = |key, parts: UpdateParts, cond_expr: Option<String>| {
            Ok::<_, StoreError>(
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(key))
                            .update_expression(parts.expression)
                            .set_condition_expression(cond_expr)
                            .set_expression_attribute_names(Some(parts.names))
                            .set_expression_attribute_values(Some(parts.values))
                            .build()
                            .map_err(build_err)?,
                    )
                    .build(),
            )
        };
        for w in &writes {
            let key = key_attrs(&w.key());
            let item = match w {
                Write::Put(item, _) | Write::Restore(item) => {
                    let restore = matches!(w, Write::Restore(_));
                    let (parts, cond_expr) =
                        update_parts(item, w.cond(), now, &self.name(), restore)?;
                    update(key, parts, cond_expr)?
                }
                Write::Delete(_, cond) => {
                    let mut d = Delete::builder().table_name(&self.table).set_key(Some(key));
                    if let Some((expr, values)) = condition(*cond, now) {
                        d = d
                            .condition_expression(expr)
                            .set_expression_attribute_values(Some(values))
                            .set_expression_attribute_names(Some(cond_names(*cond)));
                    }
                    TransactWriteItem::builder()
                        .delete(d.build().map_err(build_err)?)
                        .build()
                }
                Write::Add(t) => {
                    let (parts, cond_expr) = tally_parts(t, now);
                    update(key, parts, Some(cond_expr))?
                }
                Write::Check(_, cond) => {
                    let (expr, values) = condition(*cond, now).unwrap_or_else(|| {
                        (
                            "attribute_exists(pk) OR attribute_not_exists(pk)".into(),
                            HashMap::new(),
                        )
                    });
                    let mut c = ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key))
                        .condition_expression(expr);
                    if !values.is_empty() {
                        c = c
                            .set_expression_attribute_values(Some(values))
                            .set_expression_attribute_names(Some(cond_names(*cond)));
                    }
                    TransactWriteItem::builder()
                        .condition_check(c.build().map_err(build_err)?)
                        .build()
                }
            };
            items.push(item);
        }
        // One token for every attempt of this transaction: DynamoDB applies a replayed
        // TransactWriteItems with the same token at most once (for ten minutes), so neither
        // the SDK's retries nor the ones below can apply it twice.
        let token = uuid::Uuid::now_v7().to_string();
        let mut attempt = 0;
        loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(&token)
                .send()
                .await;
            match self.transaction_outcome(result, &writes) {
                Err(StoreError::TransactionCancelled { failed })
                    if failed.is_empty() && attempt < COLLISION_RETRIES =>
                {
                    attempt += 1;
                    tokio::time::sleep(super::backoff(attempt)).await;
                }
                other => return other,
            }
        }
    }

    async fn increment(
        &self,
        key: &Key,
        field: &str,
        by: i64,
        expires_at: Option<i64>,
    ) -> StoreResult<i64> {
        let tally = Tally {
            key: key.clone(),
            field: field.to_string(),
            by,
            expires_at,
            at_most: None,
        };
        let value_of = |attrs: Option<HashMap<String, AttributeValue>>| -> StoreResult<i64> {
            let item = decode(&self.name(), attrs.unwrap_or_default())?;
            item.data
                .get(field)
                .and_then(|v| v.as_i64())
                .ok_or_else(|| StoreError::Decode {
                    store: self.name(),
                    key: key.clone(),
                    message: format!("`{field}` is not a whole number"),
                })
        };
        let mut attempt = 0;
        for _ in 0..(5 + COLLISION_RETRIES) {
            // The usual case, a new counter included: one call.
            let (parts, cond_expr) = tally_parts(&tally, now());
            let out = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_attrs(key)))
                .update_expression(parts.expression)
                .condition_expression(cond_expr)
                .set_expression_attribute_names(Some(parts.names))
                .set_expression_attribute_values(Some(parts.values))
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            match out {
                Ok(out) => return value_of(out.attributes),
                // A transaction on the same counter (a step under a ceiling) is under way:
                // wait for it, as a transaction waits for another.
                Err(e) if e.code() == Some("TransactionConflictException") => {
                    attempt += 1;
                    tokio::time::sleep(super::backoff(attempt)).await;
                    continue;
                }
                Err(e) => match self.err(e, Some(key)) {
                    StoreError::ConditionFailed { .. } => {}
                    other => return Err(other),
                },
            }
            // The item counts another field in `cn`: count this one in `data`.
            let out = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_attrs(key)))
                .update_expression("SET #v = #v + :one ADD #d.#f :by")
                .condition_expression(
                    "attribute_exists(pk) AND (attribute_not_exists(#t) OR #t > :now)",
                )
                .expression_attribute_names("#v", "v")
                .expression_attribute_names("#d", "data")
                .expression_attribute_names("#f", field)
                .expression_attribute_names("#t", "ttl")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":by", n(by))
                .expression_attribute_values(":now", n(now()))
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            match out {
                Ok(out) => return value_of(out.attributes),
                Err(e) => match self.err(e, Some(key)) {
                    StoreError::ConditionFailed { .. } => {}
                    other => return Err(other),
                },
            }
            // It has expired: replace it, unless another increment just did.
            let mut data = Attrs::new();
            data.insert(field.to_string(), by.into());
            let item = Item {
                pk: key.pk.clone(),
                sk: key.sk.clone(),
                version: 0,
                expires_at,
                data,
            };
            match self.put(item, Cond::NotExists).await {
                Ok(_) => return Ok(by),
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Backend {
            store: self.name(),
            message: format!("counter {key} could not be created"),
        })
    }

    async fn scan(
        &self,
        cursor: Option<String>,
        limit: usize,
    ) -> StoreResult<(Vec<Item>, Option<String>)> {
        self.scan_page(cursor, limit).await
    }
}

/// How often a transaction that collided with another one on the same items is tried again
/// (with the same client request token) before the collision is reported.
const COLLISION_RETRIES: u32 = 5;

impl DynamoStore {
    /// What a `TransactWriteItems` answer means for the store's contract.
    fn transaction_outcome<E: std::fmt::Debug>(
        &self,
        result: Result<
            aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput,
            SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, E>,
        >,
        writes: &[Write],
    ) -> StoreResult<()> {
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                if let Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error() {
                    let reasons = c.cancellation_reasons();
                    let failed: Vec<(usize, Key)> = reasons
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                        .map(|(i, _)| (i, writes[i].key()))
                        .collect();
                    // A collision with another transaction at the same moment cancels with no
                    // failed condition; callers may retry it like a failed condition.
                    let collided = reasons.iter().any(|r| r.code() == Some("TransactionConflict"));
                    if !failed.is_empty() || collided {
                        return Err(StoreError::TransactionCancelled { failed });
                    }
                }
                if let Some(
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionInProgressException(_),
                ) = e.as_service_error()
                {
                    // The same token is still being applied by an earlier attempt: the outcome
                    // is not known yet, so this is not a cancellation.
                    return Err(StoreError::Backend {
                        store: self.name(),
                        message: "the transaction is still being applied".into(),
                    });
                }
                Err(self.err(e, None))
            }
        }
    }

    async fn scan_page(
        &self,
        cursor: Option<String>,
        limit: usize,
    ) -> StoreResult<(Vec<Item>, Option<String>)> {
        check_limit(limit)?;
        let start = cursor
            .as_deref()
            .map(parse_scan_cursor)
            .transpose()?
            .map(|k| key_attrs(&k));
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("attribute_not_exists(#t) OR #t > :now")
            .expression_attribute_names("#t", "ttl")
            .expression_attribute_values(":now", n(now()))
            .limit(limit as i32)
            .set_exclusive_start_key(start)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err(e, None))?;
        let items = decode_all(&self.name(), out.items)?;
        let next = out.last_evaluated_key.map(|k| {
            let get = |f: &str| {
                k.get(f)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            scan_cursor(&Key::new(get("pk"), get("sk")))
        });
        Ok((items, next))
    }
}

/// The attribute names a condition uses.
fn cond_names(cond: Cond) -> HashMap<String, String> {
    let mut names = HashMap::from([("#t".to_string(), "ttl".to_string())]);
    if matches!(cond, Cond::Version(_)) {
        names.insert("#v".into(), "v".into());
    }
    names
}
