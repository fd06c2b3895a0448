//! The `desk` function group as an AWS Lambda (see [`portal_functions::lambda`]).

use portal_functions::{groups, lambda::Function};

fn main() -> Result<(), lambda_http::Error> {
    Function::new(groups::desk).with_files().run()
}
