//! One matrix row per establishment-scoped route of `educt_admin::web::routes::ROUTES`: how to
//! call it on the collège. Adding a route there without a row here fails
//! `every_establishment_route_has_a_matrix_row`; adding the row is one arm of [`row`].

use educt_admin::delegation::Scope;
use educt_admin::web::routes::Method::{self, Get, Post};

use crate::delegations::delegate;
use crate::helpers::{COLLEGE, LYCEE, TestApp, add_agent, add_parent, add_pupil, t0};
use diesel::prelude::*;

/// A request body.
pub enum Body {
    Empty,
    Form(Vec<(&'static str, String)>),
    Multipart(Vec<(&'static str, Part)>),
}

/// A multipart field.
pub enum Part {
    Text(String),
    File(&'static str, Vec<u8>),
}

/// One request: the path (with its query) under the mount point and the body. The session's
/// CSRF token is added to every form.
pub struct Call {
    pub path: String,
    pub body: Body,
}

/// How the matrix calls a route.
pub struct Row {
    /// The answer to an allowed agent: 200 (a page) or 303 (after a change).
    pub ok: u16,
    /// Made afresh before each call: a change gets its own target every time, so every
    /// allowed call succeeds whatever ran before it.
    pub call: fn(&mut Fixtures) -> Call,
}

fn page(call: fn(&mut Fixtures) -> Call) -> Option<Row> {
    Some(Row { ok: 200, call })
}

fn redirect(call: fn(&mut Fixtures) -> Call) -> Option<Row> {
    Some(Row { ok: 303, call })
}

fn get(path: String) -> Call {
    Call {
        path,
        body: Body::Empty,
    }
}

fn post(path: String, form: Vec<(&'static str, String)>) -> Call {
    Call {
        path,
        body: Body::Form(form),
    }
}

/// The row of a route of the table; `None`: the matrix does not know how to call it.
pub fn row(method: Method, path: &str) -> Option<Row> {
    match (method, path) {
        (Get, "/delegations") => page(|_| get(format!("/delegations?uai={COLLEGE}"))),
        (Post, "/delegations") => redirect(|f| {
            let grantee = f.fresh_agent();
            post(
                "/delegations".into(),
                vec![
                    ("uai", COLLEGE.into()),
                    ("grantee", grantee),
                    ("scope", "eleves".into()),
                    ("valid_from", "2026-11-26".into()),
                    ("valid_until", "2027-06-30".into()),
                    ("motive", "Matrice".into()),
                ],
            )
        }),
        (Get, "/delegations/{id}/revocation") => {
            page(|f| get(format!("/delegations/{}/revocation", f.delegation)))
        }
        (Post, "/delegations/{id}/revocation") => redirect(|f| {
            let d = f.fresh_delegation();
            post(format!("/delegations/{d}/revocation"), vec![])
        }),
        (Post, "/delegations/{id}/prolongation") => redirect(|f| {
            let d = f.fresh_delegation();
            post(
                format!("/delegations/{d}/prolongation"),
                vec![("valid_until", "2027-08-31".into())],
            )
        }),
        (Get, "/journal") => page(|_| get(format!("/journal?uai={COLLEGE}"))),
        (Get, "/journal.csv") => page(|_| get(format!("/journal.csv?uai={COLLEGE}"))),
        (Get, "/import") => page(|_| get(format!("/import?uai={COLLEGE}"))),
        (Get, "/transferts") => page(|_| get(format!("/transferts?uai={COLLEGE}"))),
        (Post, "/transferts/{id}/acceptation") => redirect(|f| {
            let (t, pupil) = f.fresh_transfer();
            post(
                format!("/transferts/{t}/acceptation"),
                vec![("eleve", pupil.to_string())],
            )
        }),
        (Post, "/import") => page(|f| {
            let n = f.next();
            Call {
                path: "/import".into(),
                body: Body::Multipart(vec![
                    ("uai", Part::Text(COLLEGE.into())),
                    ("format", Part::Text("siecle".into())),
                    (
                        "eleves",
                        Part::File("ElevesSansAdresses.xml", pupils_xml(n)),
                    ),
                    (
                        "responsables",
                        Part::File("ResponsablesAvecAdresses.xml", guardians_xml(n)),
                    ),
                ]),
            }
        }),
        (Get, "/depannage/eleve") => page(|_| get(format!("/depannage/eleve?uai={COLLEGE}&q=a"))),
        (Get, "/depannage/eleve/classe") => {
            page(|_| get(format!("/depannage/eleve/classe?uai={COLLEGE}")))
        }
        (Post, "/depannage/eleve/classe") => redirect(|f| {
            let division = f.fresh_class().0;
            post("/depannage/eleve/classe".into(), class_form(division))
        }),
        (Get, "/depannage/eleve/statistiques") => {
            page(|_| get(format!("/depannage/eleve/statistiques?uai={COLLEGE}")))
        }
        (Get, "/depannage/eleve/export.csv") => page(|_| {
            get(format!(
                "/depannage/eleve/export.csv?uai={COLLEGE}&division=3A"
            ))
        }),
        (Get, "/depannage/eleve/lots/{id}") => page(|f| {
            let b = f.fresh_batch(Scope::Eleves);
            get(format!("/depannage/eleve/lots/{b}"))
        }),
        (Get, "/depannage/eleve/lots/{id}/courriers") => page(|f| {
            let b = f.fresh_batch(Scope::Eleves);
            get(format!("/depannage/eleve/lots/{b}/courriers"))
        }),
        (Post, "/depannage/eleve/lots/{id}/reprise") => redirect(|f| {
            let b = f.fresh_batch(Scope::Eleves);
            post(format!("/depannage/eleve/lots/{b}/reprise"), vec![])
        }),
        (Post, "/depannage/eleve/lots/{id}/abandon") => redirect(|f| {
            let b = f.fresh_batch(Scope::Eleves);
            post(format!("/depannage/eleve/lots/{b}/abandon"), vec![])
        }),
        (Post, "/depannage/eleve/lots/{id}/impression") => redirect(|f| {
            let b = f.fresh_batch(Scope::Eleves);
            post(format!("/depannage/eleve/lots/{b}/impression"), vec![])
        }),
        (Get, "/depannage/eleve/{id}") => page(|f| get(format!("/depannage/eleve/{}", f.pupil))),
        (Get, "/depannage/eleve/{id}/reinitialisation") => {
            page(|f| get(format!("/depannage/eleve/{}/reinitialisation", f.pupil)))
        }
        (Post, "/depannage/eleve/{id}/reinitialisation") => page(|f| {
            let p = f.fresh_pupil("non_notifie");
            post(format!("/depannage/eleve/{p}/reinitialisation"), vec![])
        }),
        (Post, "/depannage/eleve/{id}/{change}") => redirect(|f| {
            let p = f.fresh_pupil("active");
            post(format!("/depannage/eleve/{p}/desactivation"), vec![])
        }),
        (Get, "/depannage/responsable") => {
            page(|_| get(format!("/depannage/responsable?uai={COLLEGE}&q=a")))
        }
        (Get, "/depannage/responsable/classe") => {
            page(|_| get(format!("/depannage/responsable/classe?uai={COLLEGE}")))
        }
        (Post, "/depannage/responsable/classe") => redirect(|f| {
            let (division, pupil) = f.fresh_class();
            f.fresh_parent_of(pupil, "non_notifie");
            post("/depannage/responsable/classe".into(), class_form(division))
        }),
        (Get, "/depannage/responsable/lots/{id}") => page(|f| {
            let b = f.fresh_batch(Scope::Responsables);
            get(format!("/depannage/responsable/lots/{b}"))
        }),
        (Get, "/depannage/responsable/lots/{id}/courriers") => page(|f| {
            let b = f.fresh_batch(Scope::Responsables);
            get(format!("/depannage/responsable/lots/{b}/courriers"))
        }),
        (Post, "/depannage/responsable/lots/{id}/reprise") => redirect(|f| {
            let b = f.fresh_batch(Scope::Responsables);
            post(format!("/depannage/responsable/lots/{b}/reprise"), vec![])
        }),
        (Post, "/depannage/responsable/lots/{id}/abandon") => redirect(|f| {
            let b = f.fresh_batch(Scope::Responsables);
            post(format!("/depannage/responsable/lots/{b}/abandon"), vec![])
        }),
        (Post, "/depannage/responsable/lots/{id}/impression") => redirect(|f| {
            let b = f.fresh_batch(Scope::Responsables);
            post(
                format!("/depannage/responsable/lots/{b}/impression"),
                vec![],
            )
        }),
        (Get, "/depannage/responsable/{id}") => {
            page(|f| get(format!("/depannage/responsable/{}", f.parent)))
        }
        (Get, "/depannage/responsable/{id}/{change}") => page(|f| {
            get(format!(
                "/depannage/responsable/{}/reinitialisation",
                f.parent
            ))
        }),
        (Post, "/depannage/responsable/{id}/coordonnees") => page(|f| {
            post(
                format!("/depannage/responsable/{}/coordonnees", f.parent),
                vec![],
            )
        }),
        (Post, "/depannage/responsable/{id}/reinitialisation") => page(|f| {
            let p = f.fresh_parent("non_notifie");
            post(
                format!("/depannage/responsable/{p}/reinitialisation"),
                vec![],
            )
        }),
        (Post, "/depannage/responsable/{id}/{change}") => redirect(|f| {
            let p = f.fresh_parent("active");
            post(format!("/depannage/responsable/{p}/desactivation"), vec![])
        }),
        _ => None,
    }
}

/// The letters form for a division: its accounts not notified yet, a fresh idempotency key.
fn class_form(division: String) -> Vec<(&'static str, String)> {
    vec![
        ("uai", COLLEGE.into()),
        ("division", division),
        ("etat", "non_notifie".into()),
        ("cle", educt_admin::auth::random_token(24).unwrap()),
    ]
}

/// What the rows call on: a pupil of 3A with a parent, the referent's delegation (for reads),
/// and fresh records for every change.
pub struct Fixtures<'a> {
    pub app: &'a TestApp,
    /// The agent about to call: batches are his own, so only his rights decide.
    pub caller: &'static str,
    pub pupil: i64,
    pub parent: i64,
    pub delegation: i64,
    n: usize,
}

impl<'a> Fixtures<'a> {
    pub fn new(app: &'a TestApp, delegation: i64) -> Self {
        let mut conn = app.conn();
        let pupil = add_pupil(&mut conn, COLLEGE, "Zoë", "Lefèvre", "3A", "non_notifie");
        let parent = add_parent(
            &mut conn,
            "Nathalie",
            "Lefèvre",
            Some("n@exemple.fr"),
            None,
            "active",
            &[(pupil, 1)],
        );
        Self {
            app,
            caller: "principal",
            pupil,
            parent,
            delegation,
            n: 0,
        }
    }

    pub fn next(&mut self) -> usize {
        self.n += 1;
        self.n
    }

    pub fn fresh_pupil(&mut self, state: &str) -> i64 {
        add_pupil(
            &mut self.app.conn(),
            COLLEGE,
            "Noé",
            "Da Silva",
            "3A",
            state,
        )
    }

    /// A pending transfer of a new pupil of the collège, asked for by the lycée's import.
    pub fn fresh_transfer(&mut self) -> (i64, i64) {
        use educt_admin::db::schema::pending_transfers as t;
        let n = self.next();
        let pupil = add_pupil(
            &mut self.app.conn(),
            COLLEGE,
            "Inès",
            "Transfert",
            "3A",
            "active",
        );
        let id = diesel::insert_into(t::table)
            .values((
                t::pupil_id.eq(pupil),
                t::from_uai.eq(COLLEGE),
                t::to_uai.eq(LYCEE),
                t::siecle_id.eq(format!("matrice-{n}")),
                t::ine.eq(format!("{n:09}AB")),
                t::last_name.eq("TRANSFERT"),
                t::first_name.eq("Inès"),
                t::birth_date.eq(chrono::NaiveDate::from_ymd_opt(2011, 5, 4).unwrap()),
                t::division.eq(Some("2NDE1")),
                t::requested_by.eq("principal2"),
                t::requested_at.eq(t0().naive_utc()),
            ))
            .returning(t::id)
            .get_result::<i64>(&mut self.app.conn())
            .unwrap();
        (id, pupil)
    }

    /// A new division of one pupil not notified yet: (division, pupil).
    pub fn fresh_class(&mut self) -> (String, i64) {
        let division = format!("4M{}", self.next());
        let pupil = add_pupil(
            &mut self.app.conn(),
            COLLEGE,
            "Maël",
            "Müller",
            &division,
            "non_notifie",
        );
        (division, pupil)
    }

    pub fn fresh_parent_of(&mut self, pupil: i64, state: &str) -> i64 {
        add_parent(
            &mut self.app.conn(),
            "Stéphane",
            "Müller",
            None,
            Some("06 12 34 56 78"),
            state,
            &[(pupil, 1)],
        )
    }

    pub fn fresh_parent(&mut self, state: &str) -> i64 {
        let pupil = self.fresh_pupil("active");
        self.fresh_parent_of(pupil, state)
    }

    /// An empty batch of the caller on the collège (nothing to hash, nothing to wait for).
    pub fn fresh_batch(&mut self, scope: Scope) -> i64 {
        let uai = educt_admin::domain::Uai::parse(COLLEGE).unwrap();
        let key = format!("matrix-batch-key-{:04}", self.next());
        let new = educt_admin::accounts::batch::NewBatch {
            idempotency_key: &key,
            kind: scope.as_str(),
            uai: &uai,
            division: "3A",
            states: &[educt_admin::accounts::AccountState::NonNotifie],
            created_by: self.caller,
            gate: None,
            accounts: &[],
        };
        educt_admin::accounts::batch::create(&mut self.app.conn(), &new, t0())
            .unwrap()
            .id()
    }

    /// A member of staff attached to the collège (his password's hash is cached).
    pub fn fresh_agent(&mut self) -> String {
        let uid = format!("stagiaire{}", self.next());
        add_agent(
            &mut self.app.conn(),
            &uid,
            "Jeanne Stagiaire",
            "Enseignant-2026",
            &[COLLEGE],
            &[],
        );
        uid
    }

    /// An active `eleves` delegation of a fresh member of staff.
    pub fn fresh_delegation(&mut self) -> i64 {
        let grantee = self.fresh_agent();
        delegate(
            self.app,
            &grantee,
            COLLEGE,
            Scope::Eleves,
            "2026-11-01",
            "2027-06-30",
        )
    }
}

/// A SIECLE pupils' file for the collège: one new pupil (number `n`).
fn pupils_xml(n: usize) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BEE_ELEVES VERSION=\"3.1\"><PARAMETRES>\
         <UAJ>{COLLEGE}</UAJ><ANNEE_SCOLAIRE>2026</ANNEE_SCOLAIRE></PARAMETRES><DONNEES><ELEVES>\
         <ELEVE ELEVE_ID=\"9{n:05}\"><NOM_DE_FAMILLE>Importé</NOM_DE_FAMILLE><PRENOM>Côme\
         </PRENOM><DATE_NAISS>14/05/2012</DATE_NAISS></ELEVE></ELEVES><STRUCTURES>\
         <STRUCTURES_ELEVE ELEVE_ID=\"9{n:05}\"><STRUCTURE><CODE_STRUCTURE>6I</CODE_STRUCTURE>\
         <TYPE_STRUCTURE>D</TYPE_STRUCTURE></STRUCTURE></STRUCTURES_ELEVE></STRUCTURES>\
         </DONNEES></BEE_ELEVES>\n"
    )
    .into_bytes()
}

/// The matching guardians' file: one legal guardian.
fn guardians_xml(n: usize) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BEE_RESPONSABLES VERSION=\"3.1\">\
         <PARAMETRES><UAJ>{COLLEGE}</UAJ><ANNEE_SCOLAIRE>2026</ANNEE_SCOLAIRE></PARAMETRES>\
         <DONNEES><PERSONNES><PERSONNE PERSONNE_ID=\"8{n:05}\"><NOM_DE_FAMILLE>Importé\
         </NOM_DE_FAMILLE><PRENOM>Léa</PRENOM><MEL>lea.importe@exemple.fr</MEL></PERSONNE>\
         </PERSONNES><RESPONSABLES><RESPONSABLE_ELEVE><ELEVE_ID>9{n:05}</ELEVE_ID>\
         <PERSONNE_ID>8{n:05}</PERSONNE_ID><RESP_LEGAL>1</RESP_LEGAL></RESPONSABLE_ELEVE>\
         </RESPONSABLES></DONNEES></BEE_RESPONSABLES>\n"
    )
    .into_bytes()
}
