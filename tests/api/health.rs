use crate::helpers::TestApp;

#[tokio::test]
async fn live_answers_200() {
    let app = TestApp::spawn().await;
    let res = app.get("/health/live").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ok\n");
}

#[tokio::test]
async fn ready_answers_200_when_the_database_answers() {
    let app = TestApp::spawn().await;
    let res = app.get("/health/ready").await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn ready_answers_503_when_the_database_is_gone() {
    let mut app = TestApp::spawn().await;
    // The app's first housekeeping round writes at start: let it commit first, or its
    // checkpoint could write good pages back over the damage below.
    {
        use diesel::prelude::*;
        use educt_admin::db::schema::job_leases;
        for _ in 0..250 {
            let held: i64 = job_leases::table
                .count()
                .get_result(&mut app.conn())
                .unwrap();
            if held > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    if let Some(path) = app.test_db.sqlite_path() {
        // Overwrite the database file in place: every connection now reads garbage.
        std::fs::write(&path, vec![0x55u8; 64 * 1024]).unwrap();
        // And the write-ahead log and its index in place too: open connections read recent
        // pages from the log, and trust their cache while the index says nothing changed.
        for side in ["sqlite3-wal", "sqlite3-shm"] {
            let file = path.with_extension(side);
            if file.exists() {
                std::fs::write(&file, vec![0x55u8; 64 * 1024]).unwrap();
            }
        }
    } else {
        app.test_db.drop_now();
    }
    let started = std::time::Instant::now();
    let res = app.get("/health/ready").await;
    assert_eq!(res.status(), 503);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let body = res.text().await.unwrap();
    assert_eq!(body, "database unavailable\n");
    // Liveness does not depend on the database.
    assert_eq!(app.get("/health/live").await.status(), 200);
}
