//! The journal as a principal reads it: French labels, results, details and access paths,
//! people by their names, delegations by their day; a shared parent in both journals; a
//! purged pupil by his identifiant; the CSV with the same columns and the stored codes.

use chrono::Duration;
use diesel::prelude::*;
use educt_admin::accounts::{AccountKind, AccountOp};
use educt_admin::audit::{self, AuditAction, AuditEvent, Outcome};
use educt_admin::db::DbConnection;
use educt_admin::db::schema::pupils;
use educt_admin::delegation::Scope;
use educt_admin::delegation::store::{self, NewDelegation};
use educt_admin::domain::Uai;
use educt_admin::import::purge;

use crate::helpers::{
    COLLEGE, LYCEE, PRINCIPAL_PW, Page, Role, TestApp, add_parent, add_pupil, seed_staff, t0,
    test_key,
};

const RESET_PUPIL: AuditAction = AuditAction::Account(AccountKind::Pupil, AccountOp::ResetPassword);
const RESET_PARENT: AuditAction =
    AuditAction::Account(AccountKind::Parent, AccountOp::ResetPassword);

fn append(conn: &mut DbConnection, event: AuditEvent) {
    audit::record(conn, &test_key(), t0(), &event).unwrap();
}

/// The referent's delegation on the collège, granted on 02/12/2026.
fn delegation(conn: &mut DbConnection) -> i64 {
    let day = |s: &str| s.parse().unwrap();
    let granted = t0() + Duration::days(6);
    let new = NewDelegation {
        uai: &Uai::parse(COLLEGE).unwrap(),
        grantee_uid: "referent",
        grantee_name: "Sophie Lefèvre",
        scope: Scope::Eleves,
        valid_from: day("2026-12-02"),
        valid_until: day("2027-07-07"),
        motive: "référente numérique",
        granted_by: "principal",
    };
    store::insert(conn, &new, granted).unwrap()
}

struct Cast {
    jules: i64,
}

/// Jules Éluard (3A at the collège), his parent (also a lycée pupil's), and the rows:
/// the referent's reset through his delegation, a refusal, a parent's reset by the lycée's
/// staff through the TOTP gate, a command-line and a job row.
async fn app_with_journal() -> (TestApp, Cast) {
    let app = TestApp::spawn().await;
    let conn = &mut app.conn();
    seed_staff(conn);
    let jules = add_pupil(conn, COLLEGE, "Jules", "Éluard", "3A", "active");
    let lea = add_pupil(conn, LYCEE, "Léa", "Éluard", "2NDE4", "active");
    let parent = add_parent(
        conn,
        "Anne",
        "Éluard",
        None,
        None,
        "active",
        &[(jules, 1), (lea, 1)],
    );
    let other = add_parent(conn, "Paul", "Ailleurs", None, None, "active", &[(lea, 2)]);
    let d = delegation(conn);
    let reset = AuditEvent::new("referent", RESET_PUPIL, Outcome::Success)
        .uai(COLLEGE)
        .target("eleve", jules)
        .delegation(Some(d))
        .details("réinitialisation individuelle");
    append(conn, reset);
    let refused = AuditEvent::new("enseignant", RESET_PUPIL, Outcome::Refused)
        .uai(COLLEGE)
        .target("eleve", jules)
        .details("not allowed: no right on this establishment");
    append(conn, refused);
    for target in [parent, other] {
        let shared = AuditEvent::new("principal2", RESET_PARENT, Outcome::Success)
            .uai(LYCEE)
            .target("responsable", target)
            .gate("totp");
        append(conn, shared);
    }
    let cli = AuditEvent::new("cli:root", AuditAction::ImportPurge, Outcome::Success).uai(COLLEGE);
    append(conn, cli);
    let job = AuditEvent::new("job:upkeep", AuditAction::BatchWipe, Outcome::Success)
        .uai(COLLEGE)
        .target("lot", 7)
        .details("mots de passe effacés : 24 heures passées");
    append(conn, job);
    (app, Cast { jules })
}

async fn body(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

/// The journal table's cells, as read on the page.
fn cells(page: &str) -> Vec<String> {
    Page::parse(page).texts("table tbody td")
}

#[tokio::test]
async fn a_principal_reads_the_journal_in_french_with_names() {
    let (app, _) = app_with_journal().await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    let page = body(&app, &format!("/journal?uai={COLLEGE}")).await;
    let cells = cells(&page);
    let has = |text: &str| cells.iter().any(|c| c == text);
    assert!(
        has("Réinitialisation du mot de passe d'un élève"),
        "{cells:?}"
    );
    assert!(has("Jules ÉLUARD (j.eluard, 3A)"), "{cells:?}");
    assert!(
        has("Sophie Lefèvre (délégation du 02/12/2026)"),
        "{cells:?}"
    );
    assert!(has("Marc Dubois-Roche") && has("Refusée") && has("Réussie"));
    assert!(
        has("refusé : aucun droit sur cet établissement"),
        "{cells:?}"
    );
    assert!(has("ligne de commande (root)") && has("tâche automatique"));
    assert!(has("lot de courriers n° 7"));
    assert!(has("code de l'application d'authentification"), "{cells:?}");
    for english in [
        "not allowed",
        "eleve",
        "responsable ",
        "success",
        "refused",
        "totp",
    ] {
        assert!(
            cells.iter().all(|c| !c.contains(english)),
            "{english:?} left in {cells:?}"
        );
    }
}

#[tokio::test]
async fn the_action_filter_lists_the_french_labels_by_their_codes() {
    let (app, _) = app_with_journal().await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    let page = body(&app, &format!("/journal?uai={COLLEGE}")).await;
    assert!(page.contains(
        "<option value=\"eleve.reset_password\">Réinitialisation du mot de passe d'un élève</option>"
    ));
    let only = body(&app, &format!("/journal?uai={COLLEGE}&action=batch.wipe")).await;
    let page = Page::parse(&only);
    assert_eq!(page.texts("table tbody tr").len(), 1);
    assert!(only.contains("<option value=\"batch.wipe\" selected>"));
}

#[tokio::test]
async fn a_shared_parent_appears_in_the_journals_of_both_establishments() {
    let (app, _) = app_with_journal().await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    let college = cells(&body(&app, &format!("/journal?uai={COLLEGE}")).await);
    assert!(
        college.iter().any(|c| c == "Anne ÉLUARD (a.eluard)"),
        "the lycée's reset of the shared parent: {college:?}"
    );
    assert!(college.iter().any(|c| c == "Hervé N'Guessan"));
    assert!(
        college.iter().all(|c| !c.contains("AILLEURS")),
        "a parent of the lycée only stays out"
    );
    // The lycée's principal (a stranger to the collège) reads his own journal.
    let lycee = app.client_as(Role::Stranger).await;
    let own = lycee.page(&app, &format!("/journal?uai={LYCEE}")).await;
    let own = own.texts("table tbody td");
    assert!(own.iter().any(|c| c == "Anne ÉLUARD (a.eluard)"));
    assert!(own.iter().any(|c| c == "Paul AILLEURS (p.ailleurs)"));
    assert!(own.iter().all(|c| !c.contains("Jules")), "{own:?}");
}

#[tokio::test]
async fn a_purged_pupil_is_named_by_his_identifiant() {
    let (app, cast) = app_with_journal().await;
    let conn = &mut app.conn();
    let first = AuditEvent::new(
        "compte:j.eluard",
        AuditAction::FirstSignIn,
        Outcome::Success,
    )
    .uai(COLLEGE)
    .target("eleve", cast.jules);
    append(conn, first);
    let nobody = add_pupil(conn, COLLEGE, "Nina", "Oubli", "3A", "active");
    let view = AuditAction::Account(AccountKind::Pupil, AccountOp::View);
    let seen = AuditEvent::new("principal", view, Outcome::Success)
        .uai(COLLEGE)
        .target("eleve", nobody);
    append(conn, seen);
    // Both left the school long ago: the purge deletes them (their identifiants stay taken).
    let left = t0().date_naive() - Duration::days(120);
    diesel::update(pupils::table.filter(pupils::id.eq_any([cast.jules, nobody])))
        .set(pupils::departure_date.eq(Some(left)))
        .execute(conn)
        .unwrap();
    let today = t0().date_naive();
    let purged = purge::purge(conn, &test_key(), t0(), today, "cli:root", &[]).unwrap();
    assert_eq!(purged.0, 2);
    app.signed_in("principal", PRINCIPAL_PW).await;
    let cells = cells(&body(&app, &format!("/journal?uai={COLLEGE}")).await);
    assert!(
        cells.iter().any(|c| c == "j.eluard (élève supprimé)"),
        "{cells:?}"
    );
    assert!(cells.iter().any(|c| c == "élève supprimé"), "{cells:?}");
    assert!(cells.iter().any(|c| c == "le titulaire du compte"));
}

#[tokio::test]
async fn the_csv_has_the_french_columns_and_the_stored_codes() {
    let (app, _) = app_with_journal().await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    let csv = body(&app, &format!("/journal.csv?uai={COLLEGE}")).await;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap().trim_start_matches('\u{feff}'),
        "date;par;identifiant de l'acteur;action;code de l'action;cible;résultat;délégation;\
         accès;adresse;requête;détails"
    );
    let reset = csv
        .lines()
        .find(|l| l.contains(";eleve.reset_password;") && l.contains("Réussie"))
        .unwrap();
    assert!(
        reset.contains(
            ";Sophie Lefèvre;referent;Réinitialisation du mot de passe d'un élève;\
             eleve.reset_password;\"Jules ÉLUARD (j.eluard, 3A)\";Réussie;délégation du 02/12/2026;"
        ) || reset.contains(
            ";Sophie Lefèvre;referent;Réinitialisation du mot de passe d'un élève;\
             eleve.reset_password;Jules ÉLUARD (j.eluard, 3A);Réussie;délégation du 02/12/2026;"
        ),
        "{reset}"
    );
    assert!(csv.contains("refusé : aucun droit sur cet établissement"));
    assert!(!csv.contains("not allowed") && !csv.contains(";success;"));
}

#[tokio::test]
async fn the_pupil_page_names_who_acted_and_through_which_delegation() {
    let (app, cast) = app_with_journal().await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    let page = body(&app, &format!("/depannage/eleve/{}", cast.jules)).await;
    let cells = cells(&page);
    assert!(
        cells
            .iter()
            .any(|c| c == "Sophie Lefèvre (délégation du 02/12/2026)"),
        "{cells:?}"
    );
    assert!(
        cells
            .iter()
            .any(|c| c == "refusé : aucun droit sur cet établissement")
    );
    assert!(cells.iter().all(|c| !c.contains("not allowed")));
}
