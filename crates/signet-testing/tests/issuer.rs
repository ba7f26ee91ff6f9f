//! The issuer over HTTP, as a token verifier and an Actions runner see it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Value, json};
use signet_testing::{
    Algorithm, Claims, Defect, IssuerOptions, OidcIssuer, TokenOptions, Workflow, decode_claims,
};

fn header(jwt: &str) -> Value {
    let h = jwt.split('.').next().unwrap();
    serde_json::from_slice(&B64URL.decode(h).unwrap()).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn get_json(url: &str) -> Value {
    let r = reqwest::get(url).await.unwrap();
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.json().await.unwrap()
}

#[tokio::test]
async fn discovery_leads_to_the_keys_that_signed_the_token() {
    let issuer = OidcIssuer::start_with(IssuerOptions::actions_instance()).unwrap();
    assert!(issuer.issuer_url().ends_with("/api/actions"));
    assert!(issuer.issuer_url().starts_with("http://127.0.0.1:"));
    let discovery = get_json(&format!(
        "{}/.well-known/openid-configuration",
        issuer.issuer_url()
    ))
    .await;
    assert_eq!(discovery["issuer"], issuer.issuer_url());
    let jwks = get_json(discovery["jwks_uri"].as_str().unwrap()).await;
    assert_eq!(issuer.jwks_fetches(), 1);
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    for alg in [Algorithm::Es256, Algorithm::Rs256] {
        let token = issuer
            .token_with(
                &Claims::email("a@example.test"),
                TokenOptions {
                    algorithm: alg,
                    defect: None,
                },
            )
            .unwrap();
        let h = header(&token);
        assert_eq!(h["alg"], alg.name());
        assert!(kids.contains(&h["kid"].as_str().unwrap()));
    }

    let rotated = issuer.rotate_key(Algorithm::Es256).unwrap();
    let jwks = get_json(discovery["jwks_uri"].as_str().unwrap()).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 3);
    let token = issuer.token(&Claims::email("a@example.test")).unwrap();
    assert_eq!(header(&token)["kid"], rotated.as_str());
}

#[tokio::test]
async fn every_defect_is_what_it_says() {
    let issuer = OidcIssuer::start().unwrap();
    let claims = Claims::email("a@example.test");
    let valid = issuer.token(&claims).unwrap();
    let kid = header(&valid)["kid"].as_str().unwrap().to_owned();
    for defect in Defect::ALL {
        let jwt = issuer
            .token_with(
                &claims,
                TokenOptions {
                    algorithm: Algorithm::Es256,
                    defect: Some(defect),
                },
            )
            .unwrap();
        let c = decode_claims(&jwt).unwrap();
        let h = header(&jwt);
        let sig = jwt.rsplit('.').next().unwrap();
        match defect {
            Defect::BadSignature | Defect::WrongKey => {
                assert_eq!(h["kid"], kid.as_str());
                assert_eq!(c["aud"], "sigstore");
                assert_ne!(sig, valid.rsplit('.').next().unwrap());
            }
            Defect::UnknownKid => assert_ne!(h["kid"], kid.as_str()),
            Defect::WrongAudience => assert_ne!(c["aud"], "sigstore"),
            Defect::Expired => assert!(c["exp"].as_i64().unwrap() < now()),
            Defect::NotYetValid => assert!(c["nbf"].as_i64().unwrap() > now()),
            Defect::WrongIssuer => assert_ne!(c["iss"], issuer.issuer_url()),
            Defect::Unsigned => {
                assert_eq!(h["alg"], "none");
                assert!(sig.is_empty());
            }
            _ => unreachable!("a new defect needs a check here"),
        }
        assert_eq!(Defect::from_name(defect.name()), Some(defect));
    }
}

#[tokio::test]
async fn an_actions_job_gets_its_token_with_audience_sigstore() {
    let issuer = OidcIssuer::start_with(IssuerOptions::actions_instance()).unwrap();
    let workflow = Workflow::default();
    let job = issuer
        .actions_job(Claims::gitea_actions(&workflow))
        .unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}&audience=sigstore", job.request_url);

    // cosign sends the scheme in lower case.
    let r = client
        .get(&url)
        .header("Authorization", format!("bearer {}", job.request_token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let claims = decode_claims(body["value"].as_str().unwrap()).unwrap();
    assert_eq!(claims["aud"], "sigstore");
    assert_eq!(claims["iss"], issuer.issuer_url());
    assert_eq!(claims["repository"], "golemtrust/app");
    assert_eq!(claims["job_workflow_ref"], workflow.workflow_ref().as_str());
    assert_eq!(issuer.actions_token_requests(), 1);

    // Without an audience: the owner's URL, as Forgejo and GitHub do.
    let r = client
        .get(&job.request_url)
        .bearer_auth(&job.request_token)
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    let claims = decode_claims(body["value"].as_str().unwrap()).unwrap();
    assert_eq!(claims["aud"], format!("{}/golemtrust", issuer.base_url()));

    for (auth, status) in [
        (None, 401),
        (Some("Bearer not-the-token".to_owned()), 401),
        (Some(format!("Basic {}", job.request_token)), 401),
    ] {
        let mut req = client.get(&url);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        assert_eq!(req.send().await.unwrap().status(), status);
    }
    let other_run = url.replace("/workflows/1001/", "/workflows/1002/");
    let r = client
        .get(&other_run)
        .bearer_auth(&job.request_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn scripts_mint_tokens_over_http() {
    let issuer = OidcIssuer::start().unwrap();
    let client = reqwest::Client::new();
    let mint = |body: Value| {
        let client = client.clone();
        let url = format!("{}/_test/token", issuer.issuer_url());
        async move { client.post(url).json(&body).send().await.unwrap() }
    };
    let r =
        mint(json!({"profile": "email", "email": "s@example.test", "algorithm": "RS256"})).await;
    assert_eq!(r.status(), 200);
    let jwt = r.text().await.unwrap();
    assert_eq!(header(&jwt)["alg"], "RS256");
    assert_eq!(decode_claims(&jwt).unwrap()["email"], "s@example.test");

    let r = mint(json!({"profile": "forgejo-actions", "claims": {"ref": "refs/tags/v1"}, "defect": "expired"})).await;
    let c = decode_claims(&r.text().await.unwrap()).unwrap();
    assert_eq!(c["ref"], "refs/tags/v1");
    assert!(c["exp"].as_i64().unwrap() < now());

    for bad in [
        json!({"profile": "nope"}),
        json!({"algorithm": "HS256"}),
        json!({"defect": "nope"}),
    ] {
        assert_eq!(mint(bad).await.status(), 400);
    }

    let r = client
        .post(format!("{}/_test/actions-job", issuer.issuer_url()))
        .json(&json!({"profile": "github-actions"}))
        .send()
        .await
        .unwrap();
    let job: Value = r.json().await.unwrap();
    assert!(job["request_url"].as_str().unwrap().contains("/idtoken?"));
    assert!(!job["request_token"].as_str().unwrap().is_empty());
}

#[test]
fn refuses_to_listen_beyond_loopback() {
    let options = IssuerOptions {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..IssuerOptions::default()
    };
    assert!(OidcIssuer::start_with(options).is_err());
}
