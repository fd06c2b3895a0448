//! The repositories, run against both backends: invariants the store enforces, and (on
//! DynamoDB) the number of API requests each call makes.

mod common;
mod repos;

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let backend = crate::common::sqlite();
                    crate::repos::$name(backend.store.clone()).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let backend = crate::common::dynamodb().await;
                    crate::repos::$name(backend.store.clone()).await;
                }
            )*
        }
    };
}

on_both!(
    one_login_per_email,
    sessions_end_and_tokens_are_single_use,
    issue_numbers_are_unique_under_concurrency,
    balances_follow_invoices_and_payments,
    registrations_respect_capacity_under_concurrency,
    quotes_are_decided_once,
    every_other_record_round_trips,
    outbox_senders_never_take_one_mail_twice,
    parallel_hits_are_each_counted_and_capped,
    idempotency_claims_settle_by_what_committed,
    files_of_hidden_notes_are_as_hidden_as_the_notes,
    webhook_deliveries_are_taken_once_retried_and_given_up,
    readers_rate_articles_and_searches_that_found_nothing_are_counted,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_requests_per_call_are_bounded() {
    let (backend, counter) = crate::common::dynamodb_counted().await;
    crate::repos::count_requests(backend.store.clone(), counter).await;
}
