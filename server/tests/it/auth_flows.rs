//! The auth flows of issue 4 seen through HTTP, against the real Postgres, Redis and MailDev:
//! browsers that keep cookies call the server functions the way a hydrated page does.
mod account;
mod account_limits;
mod api;
mod api_accounts;
mod api_admin;
mod api_contract;
mod api_cors;
mod api_otp;
mod api_reauthenticate;
mod api_signing_keys;
mod api_update_user;
mod api_verify;
mod audit;
mod email_sign_in;
mod meter;
mod mfa_assurance;
mod outage;
mod recovery;
mod redirects;
mod revocation;
mod session_list;
mod sign_in_caps;
mod signin;
mod signup;
mod takeover;
mod timing;
mod usernames;

/// The one answer to a wrong password and to an unknown address alike.
use crate::support::users::INCORRECT;
