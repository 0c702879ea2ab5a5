//! The principal's journal: filters, paging, CSV with neutralised formulas.

use chrono::Duration;
use educt_admin::accounts::{AccountKind, AccountOp};
use educt_admin::audit::AuditAction;
use educt_admin::audit::{self, AuditEvent, Outcome};

use crate::helpers::{COLLEGE, LYCEE, PRINCIPAL_PW, Page, TestApp, seed_staff, t0, test_key};

async fn app_with_rows() -> TestApp {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    seed_staff(&mut conn);
    for i in 0..60 {
        let e = AuditEvent::new(
            if i % 2 == 0 { "referent" } else { "enseignant" },
            AuditAction::Account(AccountKind::Pupil, AccountOp::ResetPassword),
            Outcome::Success,
        )
        .uai(COLLEGE)
        .target("eleve", 1000 + i);
        audit::record(&mut conn, &test_key(), t0() - Duration::days(i), &e).unwrap();
    }
    let formula = AuditEvent::new("=cmd|' /C calc'!A0", AuditAction::SignIn, Outcome::Refused)
        .with_stored_action("@SUM(1)")
        .uai(COLLEGE)
        .details("+33 6 12 34 56 78");
    audit::record(&mut conn, &test_key(), t0(), &formula).unwrap();
    audit::record(
        &mut conn,
        &test_key(),
        t0(),
        &AuditEvent::new("x", AuditAction::SignIn, Outcome::Success)
            .with_stored_action("lycee.secret")
            .uai(LYCEE),
    )
    .unwrap();
    app.signed_in("principal", PRINCIPAL_PW).await;
    app
}

#[tokio::test]
async fn the_journal_is_filtered_and_paged() {
    let app = app_with_rows().await;
    let page1 = app
        .get(&format!("/journal?uai={COLLEGE}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page1.contains("Plus anciennes"));
    assert!(!page1.contains("lycee.secret"), "only his establishment");
    assert!(
        page1.contains("&lt;") || !page1.contains("<script"),
        "escaped"
    );
    let page2 = app
        .get(&format!("/journal?uai={COLLEGE}&page=2"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page2.contains("Page 2") && page2.contains("Plus récentes"));
    let referent = app
        .get(&format!("/journal?uai={COLLEGE}&acteur=referent"))
        .await
        .text()
        .await
        .unwrap();
    // The actor is shown by his name now (the filter still takes his uid).
    assert!(referent.contains("Sophie Lefèvre") && !referent.contains("Marc Dubois-Roche"));
    // Days in Paris: 2026-11-25 only holds the rows of i = 1.
    let one_day = app
        .get(&format!(
            "/journal?uai={COLLEGE}&du=2026-11-25&au=2026-11-25"
        ))
        .await
        .text()
        .await
        .unwrap();
    // Targets are named now (these pupils are in no table: « élève supprimé »), so the
    // day's rows are counted and dated.
    let rows = Page::parse(&one_day).texts("table tbody tr td:first-child");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].starts_with("25/11/2026"), "{rows:?}");
    let target = app
        .get(&format!("/journal?uai={COLLEGE}&cible=1042"))
        .await
        .text()
        .await
        .unwrap();
    let rows = Page::parse(&target).texts("table tbody tr td:first-child");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].starts_with("15/10/2026"), "{rows:?}");
    for bad in ["du=hier", "page=0", "page=abc", "au=2026-13-01"] {
        let res = app.get(&format!("/journal?uai={COLLEGE}&{bad}")).await;
        assert_eq!(res.status(), 400, "{bad}");
    }
    let empty = app
        .get(&format!("/journal?uai={COLLEGE}&action=nothing"))
        .await
        .text()
        .await
        .unwrap();
    assert!(empty.contains("Aucune action"));
    let wildcard = app
        .get(&format!("/journal?uai={COLLEGE}&acteur=%25"))
        .await
        .text()
        .await
        .unwrap();
    assert!(wildcard.contains("Aucune action"), "% is not a wildcard");
}

#[tokio::test]
async fn the_csv_export_neutralises_formulas() {
    let app = app_with_rows().await;
    let res = app.get(&format!("/journal.csv?uai={COLLEGE}")).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("journal-0691234S.csv")
    );
    let text = res.text().await.unwrap();
    assert_eq!(text.lines().count(), 1 + 61);
    assert!(text.contains("'=cmd|' /C calc'!A0"), "{text:.300}");
    assert!(text.contains("'@SUM(1)"));
    assert!(text.contains("'+33 6 12 34 56 78"));
    assert!(!text.contains("lycee.secret"));
    for line in text.lines().skip(1) {
        for cell in line.split(';') {
            let c = cell.trim_start_matches('"');
            assert!(!c.starts_with(['=', '+', '-', '@']), "{line}");
        }
    }
}
