use crate::helpers::TestApp;

const CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn assert_security_headers(res: &reqwest::Response) {
    let h = res.headers();
    assert_eq!(h["content-security-policy"], CSP);
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    let rid = h["x-request-id"].to_str().unwrap();
    assert_eq!(rid.len(), 36, "a uuid: {rid}");
    assert!(
        h.get("strict-transport-security").is_none(),
        "no HSTS over plain HTTP"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in [
        "/",
        "/health/live",
        "/health/ready",
        "/assets/style.css",
        "/assets/app.js",
        "/nope",
    ] {
        let res = app.get(path).await;
        assert_security_headers(&res);
    }
    let res = app
        .client
        .get(format!("http://{}/", app.addr))
        .send()
        .await
        .unwrap();
    assert_security_headers(&res);
}

#[tokio::test]
async fn request_ids_differ_between_requests() {
    let app = TestApp::spawn().await;
    let a = app.get("/health/live").await.headers()["x-request-id"].clone();
    let b = app.get("/health/live").await.headers()["x-request-id"].clone();
    assert_ne!(a, b);
}

#[tokio::test]
async fn root_redirects_to_the_mount_point() {
    let app = TestApp::spawn().await;
    for path in ["/", "/educt-admin-comptes"] {
        let res = app
            .client
            .get(format!("http://{}{path}", app.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302, "{path}");
        assert_eq!(res.headers()["location"], "/educt-admin-comptes/");
    }
}

#[tokio::test]
async fn unknown_routes_get_the_french_404() {
    let app = TestApp::spawn().await;
    for url in [
        app.url("/assets/nope.css"),
        app.url("/assets/..%2FCargo.toml"),
        format!("http://{}/elsewhere", app.addr),
    ] {
        let res = app.client.get(&url).send().await.unwrap();
        assert_eq!(res.status(), 404, "{url}");
        let body = res.text().await.unwrap();
        assert!(body.contains("Page introuvable"), "{url}");
    }
}

#[tokio::test]
async fn the_stylesheet_is_served_with_cache_validators() {
    let app = TestApp::spawn().await;
    let res = app.get("/assets/style.css").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    let etag = res.headers()["etag"].clone();
    assert!(res.text().await.unwrap().contains("@media print"));
    let again = app
        .client
        .get(app.url("/assets/style.css"))
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.text().await.unwrap().is_empty());
}
