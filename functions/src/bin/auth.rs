//! The `auth` function group as an AWS Lambda (see [`portal_functions::lambda`]).

fn main() -> Result<(), lambda_http::Error> {
    portal_functions::lambda::main(portal_functions::groups::auth)
}
