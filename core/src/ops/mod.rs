//! Operations on [`Postdesk`](crate::Postdesk) that used to live beside the pure rules they
//! use: each file adds an `impl Postdesk` block (the types they take and return stay with
//! their rules, in the layer below).

mod dne;
mod health;
mod send;
mod show;
mod templates;

pub use health::{Health, SecretExpiry};
pub use show::{Origin, Shown, ShownKey};
