//! What the connectors check in the provider's tokens and what they do after the sign-in:
//! the ID token's checks one by one (tokens signed here with a key made by openssl), the
//! re-authentication at the provider before a TOTP enrolment, and the OIDC back-channel
//! logout (tokens signed with the test provider's own key, as it would sign them).

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use educt_admin::auth::session::{self as stored_session, Via};
use educt_admin::clock::Clock;
use educt_admin::sso::oidc::{IdTokenError, check_id_token};
use educt_admin::usecases::FailureClass;
use educt_admin::usecases::sso::{Reauth, ReauthProof, reauthenticated};
use educt_admin::usecases::{Actor, Context};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    Audience, ClientId, EmptyAdditionalClaims, IssuerUrl, JsonWebKeyId, Nonce, PrivateSigningKey,
    StandardClaims, SubjectIdentifier,
};
use serde_json::json;

use crate::helpers::{hidden_field, test_key};
use crate::sso::{get, last_row, location, sso_app, through};
use crate::sso_idp::{AppPort, Idp, sign_in_at_idp_typed};

/// An RSA key made now by openssl, in the PKCS#1 PEM the signing key type reads; or the
/// provider's own key (`from`) converted to it.
fn rsa_pem(from: Option<&std::path::Path>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    let source = match from {
        Some(p) => p.to_owned(),
        None => {
            let made = dir.path().join("made.pem");
            let ok = Command::new("openssl")
                .args(["genrsa", "-out"])
                .arg(&made)
                .arg("2048")
                .output()
                .unwrap();
            assert!(ok.status.success());
            made
        }
    };
    let out = Command::new("openssl")
        .args(["rsa", "-traditional", "-in"])
        .arg(&source)
        .arg("-out")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(path).unwrap()
}

fn signing_key(pem: &str, kid: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.into()))).unwrap()
}

/// A JWT of `claims` signed RS256 by `key` under `kid`.
fn jwt(key: &CoreRsaPrivateSigningKey, kid: &str, claims: &serde_json::Value) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid});
    let part = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let input = format!("{}.{}", part(&header), part(claims));
    let alg = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;
    let signature = key.sign(&alg, input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// An unsigned JWT (`alg` as given, signature `signature`).
fn unsigned(alg: &str, claims: &serde_json::Value, signature: &[u8]) -> String {
    let part = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let header = json!({"alg": alg, "typ": "JWT"});
    format!(
        "{}.{}.{}",
        part(&header),
        part(claims),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

#[test]
fn an_id_token_is_checked_claim_by_claim() {
    let pem = rsa_pem(None);
    let key = signing_key(&pem, "k1");
    let keys = CoreJsonWebKeySet::new(vec![key.as_verification_key()]);
    let issuer = IssuerUrl::new("https://idp.ac-test.fr".into()).unwrap();
    let client = ClientId::new("educt-admin".into());
    let now: DateTime<Utc> = Utc::now();
    let token =
        |iss: &str, aud: &str, exp: DateTime<Utc>, nonce: &str, key: &CoreRsaPrivateSigningKey| {
            let claims = CoreIdTokenClaims::new(
                IssuerUrl::new(iss.into()).unwrap(),
                vec![Audience::new(aud.into())],
                exp,
                now - Duration::minutes(1),
                StandardClaims::new(SubjectIdentifier::new("slefevre".into())),
                EmptyAdditionalClaims {},
            )
            .set_nonce(Some(Nonce::new(nonce.into())))
            .set_auth_time(Some(now - Duration::minutes(1)));
            let alg = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;
            CoreIdToken::new(claims, key, alg, None, None)
                .unwrap()
                .to_string()
        };
    let check = |raw: &str| check_id_token(raw, &keys, (&issuer, &client), "n-1", now);
    let later = now + Duration::minutes(10);
    let good = check(&token(
        "https://idp.ac-test.fr",
        "educt-admin",
        later,
        "n-1",
        &key,
    ))
    .unwrap();
    assert_eq!(good.claims["sub"], "slefevre");
    assert!(good.auth_time.is_some());
    let refused = |raw: String, why: &str| {
        assert!(
            matches!(check(&raw), Err(IdTokenError::Refused(_))),
            "{why}: {:?}",
            check(&raw)
        );
    };
    refused(
        token(
            "https://idp.ac-test.fr",
            "educt-admin",
            now - Duration::seconds(1),
            "n-1",
            &key,
        ),
        "expired",
    );
    refused(
        token(
            "https://idp.ac-test.fr",
            "un-autre-client",
            later,
            "n-1",
            &key,
        ),
        "audience",
    );
    refused(
        token("https://faux.ac-test.fr", "educt-admin", later, "n-1", &key),
        "issuer",
    );
    refused(
        token("https://idp.ac-test.fr", "educt-admin", later, "n-2", &key),
        "nonce",
    );
    // Signed by a key the provider does not list under this id: the keys are read again.
    let stranger = signing_key(&rsa_pem(None), "k2");
    let forged = token(
        "https://idp.ac-test.fr",
        "educt-admin",
        later,
        "n-1",
        &stranger,
    );
    assert_eq!(check(&forged).unwrap_err(), IdTokenError::UnknownKey);
    // The same key id, another key: a bad signature.
    let impostor = signing_key(&rsa_pem(None), "k1");
    refused(
        token(
            "https://idp.ac-test.fr",
            "educt-admin",
            later,
            "n-1",
            &impostor,
        ),
        "signature",
    );
    // No signature, or an HMAC keyed with something anyone holding our secret could use.
    let claims = json!({"iss": "https://idp.ac-test.fr", "aud": "educt-admin", "sub": "x",
        "exp": later.timestamp(), "iat": now.timestamp(), "nonce": "n-1"});
    for raw in [
        unsigned("none", &claims, b""),
        unsigned("HS256", &claims, b"mac"),
    ] {
        assert!(check(&raw).is_err(), "{raw}");
    }
    assert_eq!(check("pas-un-jeton").unwrap_err(), IdTokenError::Malformed);
}

#[tokio::test]
async fn an_sso_session_signs_in_again_at_its_provider_before_enrolling_an_authenticator() {
    let idp = Idp::shared();
    let port = AppPort::take(&idp).await;
    let app = sso_app(&idp, Some(&port), |_| {}).await;
    for (connector, who) in [
        ("oidc", ("slefevre", "Referent-2026")),
        ("cas", ("mdubois", "Enseignant-2026")),
    ] {
        let browser = idp.browser();
        through(&app, &idp, &browser, connector, who).await;
        let page = get(&browser, app.url("/otp/enrolement")).await;
        let page = page.text().await.unwrap();
        assert!(
            page.contains("M'identifier à nouveau sur l'ENT") && !page.contains("mot_de_passe")
        );
        let csrf = hidden_field(
            &get(&browser, app.url("/")).await.text().await.unwrap(),
            "csrf_token",
        );
        let early = browser
            .post(app.url("/otp/enrolement"))
            .form(&[("csrf_token", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(
            early.status(),
            403,
            "{connector}: no enrolment without a new sign-in"
        );
        // The provider asks again only once its session is older than its interval.
        tokio::time::sleep(std::time::Duration::from_secs(idp.force_interval + 1)).await;
        let back = app.url(&format!("/connexion/{connector}/retour"));
        let forced = if connector == "oidc" {
            "&max_age=0&prompt=login"
        } else {
            "&renew=true"
        };
        // The provider's session without a new sign-in (the demand for one struck out of
        // the request): refused.
        app.clock.set(Utc::now());
        let go = get(&browser, app.url("/otp/enrolement/ent")).await;
        let to = location(&go);
        assert!(to.contains(forced), "{to}");
        let lax = to.replace(forced, "");
        let (url, typed) = sign_in_at_idp_typed(&browser, &idp, &lax, who, &back).await;
        assert!(
            !typed,
            "{connector}: the provider's session answered at once"
        );
        let res = get(&browser, &url).await;
        assert_eq!(res.status(), 403, "{connector}: an old sign-in is no proof");
        assert_eq!(last_row(&app).2, "refused");
        // The real thing: the password again.
        app.clock.set(Utc::now());
        let go = get(&browser, app.url("/otp/enrolement/ent")).await;
        let to = location(&go);
        let (url, typed) = sign_in_at_idp_typed(&browser, &idp, &to, who, &back).await;
        assert!(typed, "{connector}: the provider asked for the password");
        assert_eq!(get(&browser, &url).await.status(), 200, "{connector}");
        let row = last_row(&app);
        assert_eq!(
            (row.2.as_str(), row.3.as_deref()),
            ("success", Some(connector)),
            "{row:?}"
        );
        let page = get(&browser, app.url("/otp/enrolement"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("L'ENT a confirmé votre identité"), "{page}");
        let qr = browser
            .post(app.url("/otp/enrolement"))
            .form(&[("csrf_token", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(qr.status(), 200);
        assert!(qr.text().await.unwrap().contains("Scanner le code"));
    }
}

#[tokio::test]
async fn a_re_authentication_for_another_person_or_without_a_new_sign_in_is_refused() {
    let app = crate::helpers::TestApp::spawn().await;
    let agent = educt_admin::domain::Agent {
        uid: "slefevre".into(),
        display_name: "Sophie Lefèvre".into(),
        mail: None,
        attached: vec![],
        responsible_for: vec![],
    };
    let origin = stored_session::Origin {
        via: Via::Oidc,
        provider_session: Some("sid-1".into()),
        provider_subject: Some("sub-slefevre".into()),
    };
    let now = app.clock.now();
    let (token, session) =
        stored_session::create_via(&mut app.conn(), &agent, now, &origin).unwrap();
    let ctx = Context::new(Actor::Agent("slefevre".into()), now);
    stored_session::begin_reauthentication(&mut app.conn(), session.id, "etat-1").unwrap();
    let attempt = |via, uid, sub, proof| Reauth {
        via,
        state: "etat-1",
        uid,
        sid: Some("sid-2"),
        sub,
        proof,
    };
    let fresh = ReauthProof::Fresh;
    for (why, r) in [
        (
            "another person",
            attempt(Via::Oidc, "cperrin", Some("sub-slefevre"), fresh),
        ),
        (
            "no new sign-in",
            attempt(
                Via::Oidc,
                "slefevre",
                Some("sub-slefevre"),
                ReauthProof::Stale,
            ),
        ),
        (
            "another subject",
            attempt(Via::Oidc, "slefevre", Some("sub-autre"), fresh),
        ),
        (
            "another connector",
            attempt(Via::Cas, "slefevre", None, fresh),
        ),
    ] {
        let got = reauthenticated(
            &mut app.conn(),
            &test_key(),
            &ctx,
            (session.id, "slefevre"),
            &r,
        );
        assert_eq!(got.unwrap_err().class, FailureClass::Forbidden, "{why}");
        assert_eq!(last_row(&app).2, "refused", "{why}");
        let reread = stored_session::find(&mut app.conn(), &token)
            .unwrap()
            .unwrap();
        assert_eq!(reread.reauthenticated_at, None, "{why}");
    }
    // The same person (his uid in another case), just now: the provider's new session is kept,
    // so that its logout still ends ours.
    let r = attempt(Via::Oidc, "SLefevre", Some("sub-slefevre"), fresh);
    reauthenticated(
        &mut app.conn(),
        &test_key(),
        &ctx,
        (session.id, "slefevre"),
        &r,
    )
    .unwrap();
    let reread = stored_session::find(&mut app.conn(), &token)
        .unwrap()
        .unwrap();
    assert!(reread.reauthenticated_at.is_some());
    assert_eq!(reread.origin.provider_session.as_deref(), Some("sid-2"));
    // One re-authentication, one enrolment: two enrolments at once cannot both spend it.
    let since = now - chrono::Duration::minutes(5);
    let spent = [0, 1].map(|_| {
        stored_session::spend_reauthentication(&mut app.conn(), session.id, since).unwrap()
    });
    assert_eq!(spent, [true, false]);
    let refused = |id: i64, why: &str| {
        let got = reauthenticated(&mut app.conn(), &test_key(), &ctx, (id, "slefevre"), &r);
        assert_eq!(got.unwrap_err().class, FailureClass::Forbidden, "{why}");
    };
    refused(
        session.id,
        "the same flow again (its cookie replayed): spent",
    );
    stored_session::begin_reauthentication(&mut app.conn(), session.id, "etat-2").unwrap();
    refused(session.id, "a flow this session did not start last");
    // A session of somebody else under the id the flow named (ids are reused).
    let cperrin = educt_admin::domain::Agent {
        uid: "cperrin".into(),
        ..agent.clone()
    };
    let (_, theirs) = stored_session::create_via(&mut app.conn(), &cperrin, now, &origin).unwrap();
    stored_session::begin_reauthentication(&mut app.conn(), theirs.id, "etat-1").unwrap();
    refused(theirs.id, "another agent's session");
    stored_session::delete(&mut app.conn(), session.id).unwrap();
    refused(session.id, "a session that ended meanwhile");
}

#[tokio::test]
async fn the_providers_back_channel_logout_ends_the_session_and_nothing_else_does() {
    let idp = Idp::shared();
    let port = AppPort::take(&idp).await;
    let app = sso_app(&idp, Some(&port), |_| {}).await;
    let browser = idp.browser();
    through(&app, &idp, &browser, "oidc", ("slefevre", "Referent-2026")).await;
    // Sessions the logout does not name: another person's, hers through CAS.
    let other = idp.browser();
    through(&app, &idp, &other, "oidc", ("cperrin", "Principal-2026")).await;
    let by_cas = idp.browser();
    through(&app, &idp, &by_cas, "cas", ("slefevre", "Referent-2026")).await;
    // Fetched as the app would, without the person's provider cookie.
    let jwks = idp
        .browser()
        .get(format!("{}/oauth2/jwks", idp.url))
        .send()
        .await
        .unwrap();
    let jwks: serde_json::Value = serde_json::from_str(&jwks.text().await.unwrap()).unwrap();
    let kid = jwks["keys"][0]["kid"]
        .as_str()
        .unwrap_or_else(|| panic!("{jwks}"))
        .to_owned();
    let theirs = signing_key(&rsa_pem(Some(&idp.signing_key)), &kid);
    let now = app.clock.now().timestamp();
    let claims = |aud: &str| {
        json!({"iss": idp.issuer, "aud": aud, "iat": now, "jti": format!("j-{aud}"), "sub": "slefevre",
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}}})
    };
    let mut another_session = claims(&idp.client_id);
    another_session["sid"] = json!("une-autre-session");
    let endpoint = app.url("/connexion/oidc/deconnexion-canal-arriere");
    let post = |token: String| {
        let client = reqwest::Client::new();
        let endpoint = endpoint.clone();
        async move {
            client
                .post(endpoint)
                .form(&[("logout_token", token)])
                .send()
                .await
                .unwrap()
        }
    };
    // Not a form, or a form naming two tokens: refused, audited.
    let client = reqwest::Client::new();
    for (body, kind) in [
        ("{\"logout_token\": \"x\"}", "application/json"),
        (
            "logout_token=a&logout_token=b",
            "application/x-www-form-urlencoded",
        ),
    ] {
        let res = client
            .post(&endpoint)
            .header("content-type", kind)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{body}");
        let row = last_row(&app);
        assert_eq!(
            (row.1.as_str(), row.2.as_str()),
            ("auth.sign_out", "refused"),
            "{body}"
        );
    }
    let impostor = signing_key(&rsa_pem(None), &kid);
    for forged in [
        jwt(&theirs, &kid, &claims("un-autre-client")),
        jwt(&impostor, &kid, &claims(&idp.client_id)),
        unsigned("HS256", &claims(&idp.client_id), b"mac"),
        "pas-un-jeton".to_owned(),
        "x".repeat(60_000),
    ] {
        let res = post(forged).await;
        assert_eq!(res.status(), 400);
        let row = last_row(&app);
        assert_eq!(
            (row.2.as_str(), row.3.as_deref()),
            ("refused", Some("oidc"))
        );
        assert_eq!(
            get(&browser, app.url("/")).await.status(),
            200,
            "still signed in"
        );
    }
    // A provider session of hers that is not this one: nothing ends.
    assert_eq!(
        post(jwt(&theirs, &kid, &another_session)).await.status(),
        200
    );
    assert_eq!(
        get(&browser, app.url("/")).await.status(),
        200,
        "another sid"
    );
    let res = post(jwt(&theirs, &kid, &claims(&idp.client_id))).await;
    assert_eq!(res.status(), 200);
    let row = last_row(&app);
    assert_eq!(
        (row.0.as_str(), row.1.as_str()),
        ("job:oidc-backchannel-logout", "auth.sign_out")
    );
    let home = get(&browser, app.url("/")).await;
    assert_eq!(home.status(), 303, "the session ended");
    for (who, client) in [
        ("cperrin through OIDC", &other),
        ("slefevre through CAS", &by_cas),
    ] {
        assert_eq!(get(client, app.url("/")).await.status(), 200, "{who}");
    }
}
