//! Reusable view pieces.
pub mod counter;
pub mod layout;
pub mod stack_status;
