//! What the integration tests share, in one place: the app harness, browsers and their
//! answers, accounts, people and readers made directly, the audit log, mail, and the proxy.
//! Feature files keep only their tests and the helpers no other feature needs.
pub mod app;
pub mod audit;
pub mod authenticator;
pub mod browser;
pub mod mail;
pub mod people;
pub mod proxy;
pub mod readers;
pub mod users;

pub use app::{Overrides, PUBLIC_URL, Replica, SECRET, TestApp, owner_url, redis_pool, redis_url};
pub use audit::{actions_of, audit_of};
pub use authenticator::SoftPasskey;
pub use browser::{Answer, Browser, fresh_loopback, role_with_cookie};
pub use people::{PASSWORD, PeopleApp, Person, actor, db_role};
pub use proxy::{Proxy, addr_of, through};
pub use readers::{Reader, ReadersApp};
pub use users::{
    User, as_auth_service, ban_directly, incorrect_credentials, is_confirmed, new_email,
    new_password, signed_in_user, user_id, verified_user,
};
