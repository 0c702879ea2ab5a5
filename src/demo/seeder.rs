//! The demo's pupils and parents, family by family, in varied account states.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use super::names;
use super::{COLLEGE, DemoError, LYCEE};
use crate::accounts::AccountState;
use crate::accounts::identifiants::{IdentifiantKind, allocate};
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::{parents, pupil_parents, pupils};
use crate::domain::search_key;

pub(super) struct Division {
    uai: &'static str,
    code: &'static str,
    /// Age at the start of the school year.
    age: i32,
    size: usize,
}

const DIVISIONS: &[Division] = &[
    Division {
        uai: COLLEGE,
        code: "6A",
        age: 11,
        size: 29,
    },
    Division {
        uai: COLLEGE,
        code: "6B",
        age: 11,
        size: 30,
    },
    Division {
        uai: COLLEGE,
        code: "5A",
        age: 12,
        size: 30,
    },
    Division {
        uai: COLLEGE,
        code: "5B",
        age: 12,
        size: 28,
    },
    Division {
        uai: COLLEGE,
        code: "4A",
        age: 13,
        size: 31,
    },
    Division {
        uai: COLLEGE,
        code: "4B",
        age: 13,
        size: 30,
    },
    Division {
        uai: COLLEGE,
        code: "3A",
        age: 14,
        size: 30,
    },
    Division {
        uai: COLLEGE,
        code: "3B",
        age: 14,
        size: 29,
    },
    Division {
        uai: COLLEGE,
        code: "3C",
        age: 14,
        size: 31,
    },
    Division {
        uai: COLLEGE,
        code: "3D",
        age: 14,
        size: 32,
    },
    Division {
        uai: LYCEE,
        code: "2NDE1",
        age: 15,
        size: 32,
    },
    Division {
        uai: LYCEE,
        code: "2NDE2",
        age: 15,
        size: 31,
    },
];

pub(super) struct Seeder<'a> {
    pub(super) conn: &'a mut DbConnection,
    pub(super) rng: &'a mut StdRng,
    pub(super) now: DateTime<Utc>,
    pub(super) decoy_hash: &'a str,
    pub(super) school_year: i32,
    pub(super) pupils: usize,
    pub(super) parents: usize,
}

/// A password hash, whether it must be changed, a provisional password's expiry and its
/// removal.
type PasswordColumns = (
    Option<String>,
    bool,
    Option<chrono::NaiveDateTime>,
    Option<chrono::NaiveDateTime>,
);

impl Seeder<'_> {
    /// Fills the divisions family by family: most families have one child here, some two
    /// (siblings in other divisions, one across the collège and the lycée).
    pub(super) fn seed_families(&mut self) -> Result<(), DemoError> {
        let mut seats: Vec<(usize, usize)> = DIVISIONS
            .iter()
            .enumerate()
            .map(|(i, d)| (i, d.size))
            .collect();
        let mut first = true;
        while seats.iter().any(|(_, left)| *left > 0) {
            let surname = if first {
                "Lefèvre"
            } else {
                names::SURNAMES
                    .choose(self.rng)
                    .copied()
                    .unwrap_or("Martin")
            };
            let children = if first || self.rng.random_bool(0.12) {
                2
            } else {
                1
            };
            let mut family = Vec::new();
            for n in 0..children {
                let open: Vec<usize> = seats
                    .iter()
                    .filter(|(_, left)| *left > 0)
                    .map(|(i, _)| *i)
                    .collect();
                let Some(&idx) = (if first && n == 1 {
                    open.iter().find(|i| DIVISIONS[**i].uai == LYCEE)
                } else {
                    open.choose(self.rng)
                }) else {
                    break;
                };
                seats[idx].1 -= 1;
                let girl = if first && n == 0 {
                    true
                } else {
                    self.rng.random_bool(0.5)
                };
                let first_name = if first && n == 0 {
                    "Zoë"
                } else if girl {
                    names::GIRLS.choose(self.rng).copied().unwrap_or("Léa")
                } else {
                    names::BOYS.choose(self.rng).copied().unwrap_or("Léo")
                };
                family.push(self.insert_pupil(&DIVISIONS[idx], first_name, surname)?);
            }
            let guardians = if self.rng.random_bool(0.7) { 2 } else { 1 };
            for rank in 1..=guardians {
                let parent_surname = if rank == 2 && self.rng.random_bool(0.3) {
                    names::SURNAMES
                        .choose(self.rng)
                        .copied()
                        .unwrap_or("Martin")
                } else {
                    surname
                };
                let parent = self.insert_parent(parent_surname)?;
                for pupil in &family {
                    diesel::insert_into(pupil_parents::table)
                        .values((
                            pupil_parents::pupil_id.eq(pupil),
                            pupil_parents::parent_id.eq(parent),
                            pupil_parents::legal_rank.eq(rank as i16),
                        ))
                        .execute(self.conn)?;
                }
            }
            first = false;
        }
        Ok(())
    }

    fn random_state(&mut self) -> AccountState {
        let roll = self.rng.random_range(0..100);
        match roll {
            0..35 => AccountState::Active,
            35..60 => AccountState::Notifie,
            60..85 => AccountState::NonNotifie,
            85..93 => AccountState::Bloque,
            _ => AccountState::Desactive,
        }
    }

    /// Password columns for a state: notified accounts hold a provisional password (a few
    /// of them already expired, and removed as the upkeep job does), activated ones a
    /// chosen one. The last is when an expired one was removed.
    fn password_columns(&mut self, state: AccountState) -> PasswordColumns {
        match state {
            AccountState::NonNotifie => (None, false, None, None),
            AccountState::Notifie => {
                let days = self.rng.random_range(-20..85);
                let expiry = db_instant(self.now + Duration::days(days));
                if days < 0 {
                    (None, true, Some(expiry), Some(expiry))
                } else {
                    (Some(self.decoy_hash.to_owned()), true, Some(expiry), None)
                }
            }
            _ => (Some(self.decoy_hash.to_owned()), false, None, None),
        }
    }

    fn insert_pupil(
        &mut self,
        division: &Division,
        first_name: &str,
        surname: &str,
    ) -> Result<i64, DemoError> {
        let identifiant = allocate(
            self.conn,
            IdentifiantKind::Pupil,
            first_name,
            surname,
            self.now,
        )?;
        let year = self.school_year - division.age;
        let birth =
            NaiveDate::from_yo_opt(year, self.rng.random_range(1..=365)).unwrap_or(NaiveDate::MIN);
        let ine = if self.rng.random_bool(0.95) {
            Some(format!(
                "{:09}{}",
                self.rng.random_range(0..1_000_000_000u32),
                random_letters(self.rng, 2)
            ))
        } else {
            None
        };
        let state = self.random_state();
        let (hash, must_change, expiry, removed) = self.password_columns(state);
        let at = db_instant(self.now);
        let id = diesel::insert_into(pupils::table)
            .values((
                pupils::uai.eq(division.uai),
                pupils::identifiant.eq(identifiant.as_str()),
                pupils::ine.eq(ine),
                pupils::last_name.eq(surname),
                pupils::first_name.eq(first_name),
                pupils::search_name.eq(search_key(&format!("{surname} {first_name}"))),
                pupils::birth_date.eq(birth),
                pupils::division.eq(Some(division.code)),
                pupils::state.eq(state.as_str()),
                pupils::password_hash.eq(hash),
                pupils::must_change.eq(must_change),
                pupils::provisional_expires_at.eq(expiry),
                pupils::provisional_removed_at.eq(removed),
                pupils::created_at.eq(at),
                pupils::updated_at.eq(at),
            ))
            .returning(pupils::id)
            .get_result(self.conn)?;
        self.pupils += 1;
        Ok(id)
    }

    fn insert_parent(&mut self, surname: &str) -> Result<i64, DemoError> {
        let first_name = names::ADULT_FIRST_NAMES
            .choose(self.rng)
            .copied()
            .unwrap_or("Sophie");
        let identifiant = allocate(
            self.conn,
            IdentifiantKind::Parent,
            first_name,
            surname,
            self.now,
        )?;
        let state = self.random_state();
        let (hash, must_change, expiry, removed) = self.password_columns(state);
        let activation_path =
            matches!(state, AccountState::Active | AccountState::Bloque).then(|| {
                ["notification", "sms", "franceconnect"]
                    .choose(self.rng)
                    .copied()
                    .unwrap_or("notification")
            });
        let email = self
            .rng
            .random_bool(0.85)
            .then(|| format!("{}@exemple.fr", identifiant.as_str()));
        let mobile = self.rng.random_bool(0.8).then(|| {
            format!(
                "0{} {:02} {:02} {:02} {:02}",
                self.rng.random_range(6..=7),
                self.rng.random_range(0..100),
                self.rng.random_range(0..100),
                self.rng.random_range(0..100),
                self.rng.random_range(0..100)
            )
        });
        let at = db_instant(self.now);
        let id = diesel::insert_into(parents::table)
            .values((
                parents::identifiant.eq(identifiant.as_str()),
                parents::last_name.eq(surname),
                parents::first_name.eq(first_name),
                parents::search_name.eq(search_key(&format!("{surname} {first_name}"))),
                parents::email.eq(email),
                parents::mobile.eq(mobile),
                parents::state.eq(state.as_str()),
                parents::activation_path.eq(activation_path),
                parents::password_hash.eq(hash),
                parents::must_change.eq(must_change),
                parents::provisional_expires_at.eq(expiry),
                parents::provisional_removed_at.eq(removed),
                parents::created_at.eq(at),
                parents::updated_at.eq(at),
            ))
            .returning(parents::id)
            .get_result(self.conn)?;
        self.parents += 1;
        Ok(id)
    }
}

fn random_letters(rng: &mut StdRng, n: usize) -> String {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ";
    (0..n)
        .map(|_| LETTERS[rng.random_range(0..LETTERS.len())] as char)
        .collect()
}
