use diesel::prelude::*;
use educt_admin::auth::password::verify_password;
use educt_admin::db::schema::{agent_uais, agents, establishments, parents, pupil_parents, pupils};
use secrecy::SecretString;

use crate::helpers::TestApp;

#[tokio::test]
async fn demo_seeds_once_and_writes_private_credentials() {
    let app = TestApp::builder().demo().start().await;
    let mut conn = app.test_db.connect();
    let uais: Vec<(String, String)> = establishments::table
        .order(establishments::uai)
        .select((establishments::uai, establishments::name))
        .load(&mut conn)
        .unwrap();
    assert_eq!(
        uais,
        vec![
            ("0691234S".to_owned(), "Collège Jean Moulin".to_owned()),
            ("0692418D".to_owned(), "Lycée Ampère".to_owned())
        ]
    );
    let college: i64 = pupils::table
        .filter(pupils::uai.eq("0691234S"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert!((280..=320).contains(&college), "{college}");
    let divisions: Vec<Option<String>> = pupils::table
        .filter(pupils::uai.eq("0691234S"))
        .select(pupils::division)
        .distinct()
        .load(&mut conn)
        .unwrap();
    assert!((8..=12).contains(&divisions.len()));
    let states: Vec<String> = pupils::table
        .select(pupils::state)
        .distinct()
        .load(&mut conn)
        .unwrap();
    assert_eq!(states.len(), 5, "every account state appears: {states:?}");
    let lefevre: i64 = pupils::table
        .filter(pupils::last_name.eq("Lefèvre"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert!(lefevre >= 1);
    let orphan_pupils: i64 = pupils::table
        .filter(diesel::dsl::not(diesel::dsl::exists(
            pupil_parents::table.filter(pupil_parents::pupil_id.eq(pupils::id)),
        )))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(orphan_pupils, 0, "every pupil has a parent");
    let parent_count: i64 = parents::table.count().get_result(&mut conn).unwrap();
    assert!(parent_count > 300);

    // Credentials: one agent a line, uid TAB password TAB role, mode 0600.
    let path = app.settings.demo.data_dir.join("demo-credentials.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    let uids: Vec<&str> = lines.iter().map(|l| l[0]).collect();
    assert_eq!(
        uids,
        [
            "principal.demo",
            "principal2.demo",
            "referent.demo",
            "enseignant.demo"
        ]
    );
    let (uid, password) = (lines[0][0], lines[0][1]);
    let hash: Option<String> = agents::table
        .filter(agents::uid.eq(uid))
        .select(agents::password_hash)
        .first(&mut conn)
        .unwrap();
    assert!(verify_password(&SecretString::from(password.to_owned()), &hash.unwrap()).unwrap());
    let responsible: Vec<String> = agent_uais::table
        .inner_join(agents::table)
        .filter(agents::uid.eq("principal.demo"))
        .filter(agent_uais::role.eq("responsible"))
        .select(agent_uais::uai)
        .load(&mut conn)
        .unwrap();
    assert_eq!(responsible, ["0691234S"]);

    // The seeding was audited, and the chain holds.
    let head = educt_admin::audit::verify_chain(&mut conn, &crate::helpers::test_key()).unwrap();
    assert_eq!(head.seq, 1);

    // A second start on the same database seeds nothing and keeps the credentials file.
    app.stop().await;
    let settings = app.settings.clone();
    let again = educt_admin::startup::Application::build(
        settings,
        educt_admin::startup::StartOptions {
            demo: true,
            ..Default::default()
        },
    )
    .unwrap();
    drop(again);
    let after: i64 = pupils::table.count().get_result(&mut conn).unwrap();
    let before: i64 = college
        + pupils::table
            .filter(pupils::uai.eq("0692418D"))
            .count()
            .get_result::<i64>(&mut conn)
            .unwrap();
    assert_eq!(after, before);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}
