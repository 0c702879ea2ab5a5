//! The shape every text value of the domain shares: a private `String` that only its own
//! `parse` builds, read back with `as_str`, shown as is, and parsed again on deserialising
//! (so a form or a file field refused by `parse` never becomes the type).

/// Gives a `struct T(String)` its `as_str`, `Display` and `AsRef<str>`. With `parse` (the
/// type has `fn parse(&str) -> Result<Self, ParseError>`) also `FromStr` and `Deserialize`,
/// both refusing with `parse`'s French message.
macro_rules! text_value {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        /// Read as the text it is (a validated value is never changed in place).
        impl ::std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        /// The stored form (a written row's column, `#[diesel(serialize_as = &str)]`).
        impl<'a> From<&'a $name> for &'a str {
            fn from(value: &'a $name) -> Self {
                &value.0
            }
        }
    };
    ($name:ident, parse) => {
        $crate::domain::text::text_value!($name);

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::ParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <String as ::serde::Deserialize>::deserialize(d)?;
                Self::parse(&text).map_err(::serde::de::Error::custom)
            }
        }

        /// A stored value read back (a typed row's column): refused by `parse`, it is an
        /// error, never a default.
        impl TryFrom<String> for $name {
            type Error = $crate::domain::ParseError;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                Self::parse(&text)
            }
        }
    };
}

pub(crate) use text_value;

/// A stored code (an account state, a scope…) that no version of ours writes: reading it
/// fails rather than guessing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored {what} {value:?} is not one this version knows")]
pub struct UnknownCode {
    pub what: &'static str,
    pub value: String,
}

/// Gives a code enum with `fn parse(&str) -> Option<Self>` its `TryFrom<String>` (the
/// typed rows read its column through it), refusing with [`UnknownCode`].
macro_rules! stored_code {
    ($name:ty, $what:literal) => {
        impl TryFrom<String> for $name {
            type Error = $crate::domain::UnknownCode;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value).ok_or($crate::domain::UnknownCode { what: $what, value })
            }
        }
    };
}

pub(crate) use stored_code;

/// The refusal of a text over `max` characters: "{subject} ne peut dépasser {max} caractères."
pub(crate) fn check_max_chars(
    text: &str,
    max: usize,
    subject: &str,
) -> Result<(), super::ParseError> {
    if text.chars().count() > max {
        return Err(super::ParseError::new(format!(
            "{subject} ne peut dépasser {max} caractères."
        )));
    }
    Ok(())
}

/// Asserts that `parse` refuses each of `inputs`, and a text of 10,000 `filler` characters
/// (characters the type accepts, so that only its length refuses it).
#[cfg(test)]
pub(crate) fn assert_refuses<T: std::fmt::Debug, E>(
    parse: impl Fn(&str) -> Result<T, E>,
    filler: char,
    inputs: &[&str],
) {
    let long = filler.to_string().repeat(10_000);
    for s in inputs.iter().copied().chain([long.as_str()]) {
        assert!(parse(s).is_err(), "{s:?} should be refused");
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::{Division, Uai};

    #[test]
    fn parses_from_str_and_deserialises_through_parse() {
        let uai: Uai = "0691234s".parse().unwrap();
        assert_eq!(uai.as_str(), "0691234S");
        assert_eq!(uai.as_ref() as &str, "0691234S");
        let d: Division = serde_json_like("3a").unwrap();
        assert_eq!(d.to_string(), "3A");
        let refused = serde_json_like::<Division>("<b>").unwrap_err();
        assert!(
            refused.contains("La division ne peut contenir"),
            "{refused}"
        );
    }

    /// Deserialises one string value through serde's value deserializer.
    fn serde_json_like<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, String> {
        use serde::de::IntoDeserializer;
        let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
            s.into_deserializer();
        T::deserialize(de).map_err(|e| e.to_string())
    }
}
