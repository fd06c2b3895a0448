//! The `search` function group as an AWS Lambda (see [`portal_functions::lambda`]).

use portal_functions::{groups, lambda::Function};

fn main() -> Result<(), lambda_http::Error> {
    Function::new(groups::search)
        .with_search()
        .with_not_found()
        .run()
}
