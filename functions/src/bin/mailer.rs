//! The outbox mailer as an AWS Lambda fed by the table's stream (see
//! [`portal_functions::lambda::mailer_main`]).

fn main() -> Result<(), lambda_http::Error> {
    portal_functions::lambda::mailer_main()
}
