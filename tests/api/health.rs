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
    if let Some(path) = app.test_db.sqlite_path() {
        // Overwrite the database file in place: every connection now reads garbage.
        std::fs::write(&path, vec![0x55u8; 64 * 1024]).unwrap();
        let _ = std::fs::remove_file(path.with_extension("sqlite3-wal"));
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
