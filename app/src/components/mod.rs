//! Reusable view pieces.
pub mod counter;
pub mod forms;
pub mod layout;
pub mod raw_text;
pub mod stack_status;
