//! Pupil troubleshooting (`/depannage/eleve`): needs the `eleves` scope on the pupil's
//! establishment, or being its principal.

pub mod batch_pages;
mod class_refusals;
pub mod classes;
pub mod search;
pub mod stats;
