//! Parents' accounts (`/depannage/responsable`): the `responsables` scope (or being
//! principal) on one of the parent's children's establishments, **and** the parents' gate.

pub mod search;
