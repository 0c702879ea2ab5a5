//! Typed row ids: a pupil's id is not a parent's, a batch's or a delegation's. Each wraps the
//! database's `i64` (`From<i64>` when read, `get()` when written to a query).

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// The database value, for a query.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

typed_id!(
    /// A row of `pupils`.
    PupilId
);
typed_id!(
    /// A row of `parents`.
    ParentId
);
typed_id!(
    /// A row of `batches` (a class's letters).
    BatchId
);
typed_id!(
    /// A row of `delegations`.
    DelegationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_wrap_the_database_value() {
        let id = BatchId::from(42);
        assert_eq!(id.get(), 42);
        assert_eq!(i64::from(id), 42);
        assert_eq!(id.to_string(), "42");
        let from_path: DelegationId = serde::Deserialize::deserialize(
            serde::de::IntoDeserializer::<serde::de::value::Error>::into_deserializer(7i64),
        )
        .unwrap();
        assert_eq!(from_path, DelegationId::from(7));
    }
}
