//! Postdesk core: the configuration model, its validation, persistence and secrets.
//!
//! Tauri-free and UI-free: the window (`src-tauri`) and the command line (`cli`) are thin
//! adapters over [`app::Postdesk`]. `model`, `keys` and `validate` are pure functions over
//! values; `store` (disk) and `secrets` (OS keychain) are the edges.

pub mod app;
pub mod checks;
pub mod clients;
mod clouds;
pub mod diagnosis;
pub mod explain;
pub mod files;
pub mod dne;
pub mod edits;
pub mod error;
#[cfg(test)]
mod fixtures;
pub mod hints;
pub mod http;
pub mod identity;
pub mod keys;
pub mod limits;
pub mod login;
pub mod mail;
pub mod message;
mod migrate;
pub mod model;
mod model_de;
pub mod oauth;
mod ops;
pub mod prefetch;
pub mod presets;
pub mod receiver;
pub mod redirect;
pub mod resolve;
pub mod rfc5322;
pub mod secrets;
pub mod settings;
pub mod sendmail_args;
pub mod smtp;
pub mod store;
pub mod support;
pub mod templates;
mod tls;
pub mod transfer;
pub mod validate;

pub use app::{Error, Postdesk};
pub use model::Config;
pub use secrets::Secret;
pub use validate::{Problem, Severity};
