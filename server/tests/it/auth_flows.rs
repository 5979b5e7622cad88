//! The auth flows of issue 4 seen through HTTP, against the real Postgres, Redis and MailDev:
//! browsers that keep cookies call the server functions the way a hydrated page does.
mod account;
mod api;
mod audit;
mod meter;
mod outage;
mod recovery;
mod revocation;
mod session_list;
mod sign_in_caps;
mod signin;
mod signup;
mod takeover;
mod timing;
mod usernames;
