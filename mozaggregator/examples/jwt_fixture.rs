//! Writes a JWKS file with a fresh RSA key and prints a JWT signed by it, valid for an hour:
//! what `bench/http.sh` needs to load-test authorized requests (`serve --jwks FILE
//! --jwt-issuer ISS --jwt-audience AUD`, then `Authorization: Bearer TOKEN`).
//!
//! ```text
//! cargo run --release -p mozaggregator --example jwt_fixture -- JWKS_FILE ISSUER AUDIENCE
//! ```

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mozaggregator_core::testing::bench::{self, Error};
use rsa::pkcs1::EncodeRsaPrivateKey;

fn main() -> ExitCode {
    bench::exit_code("jwt_fixture", run())
}

fn run() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, issuer, audience] = args.as_slice() else {
        return Err("usage: jwt_fixture JWKS_FILE ISSUER AUDIENCE".into());
    };
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)?;
    let der = private.to_pkcs1_der()?;
    let encoding = EncodingKey::from_rsa_der(der.as_bytes());
    let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256)?;
    jwk.common.key_id = Some("bench".into());
    std::fs::write(path, serde_json::to_vec(&JwkSet { keys: vec![jwk] })?)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let claims = serde_json::json!({
        "iss": issuer, "aud": audience, "exp": now + 3600, "sub": "bench",
        "scope": "read:aggregates",
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("bench".into());
    println!("{}", jsonwebtoken::encode(&header, &claims, &encoding)?);
    Ok(())
}
