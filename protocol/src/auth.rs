//! Request authentication: a node's identity is its wallet address, and every
//! state-changing request is signed with it (DESIGN §3) — no passwords, no API keys.
//!
//! The signer EIP-191 personal-signs ([`alloy`]'s `sign_message`) this canonical
//! string, lines joined by `\n`:
//!
//! ```text
//! idlewatt-request-v1
//! POST
//! /v1/leases/0123abcd/result          (path and query, exactly as sent)
//! <SHA-256 of the body, lowercase hex> (of the empty string for no body)
//! 1767225600000                        (timestamp, unix ms)
//! 5f1c0e...                            (nonce: 32 lowercase hex digits, random)
//! ```
//!
//! and sends the headers of [`AuthHeaders`]. The coordinator recovers the address
//! from the signature and compares it with `x-idlewatt-address` ([`verify_request`]),
//! refuses timestamps more than [`MAX_CLOCK_SKEW_MS`] away from its clock, and
//! remembers nonces until their timestamp is stale, so a request cannot be replayed.
//! Hashing the body into the signed string keeps the signature small whatever the body.
//!
//! The signer also sends the body's hash in `x-idlewatt-content-sha256`
//! ([`HEADER_CONTENT_SHA256`]), so the coordinator can check the signature over the
//! *declared* hash before it reads a byte of a large body, then read at most what the
//! request may carry and compare ([`verify_declared`]).

use alloy::primitives::{Address, B128, Signature};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use sha2::{Digest, Sha256};

/// Header: the signer's address, `0x`-hex.
pub const HEADER_ADDRESS: &str = "x-idlewatt-address";
/// Header: unix milliseconds when the request was signed.
pub const HEADER_TIMESTAMP: &str = "x-idlewatt-timestamp";
/// Header: 16 random bytes, 32 lowercase hex digits.
pub const HEADER_NONCE: &str = "x-idlewatt-nonce";
/// Header: the 65-byte signature (r, s, v), `0x`-hex.
pub const HEADER_SIGNATURE: &str = "x-idlewatt-signature";

/// Header: the SHA-256 of the body the signature covers, lowercase hex (lets the
/// coordinator authenticate a request before reading its body).
pub const HEADER_CONTENT_SHA256: &str = "x-idlewatt-content-sha256";

/// A timestamp further than this from the coordinator's clock is refused (±5 min).
pub const MAX_CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// First line of the canonical string: the scheme's version.
const SCHEME: &str = "idlewatt-request-v1";

/// Why a request's authentication failed. The message is sent back in the 401 body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// A header is absent.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// A header is present but not in the documented form.
    #[error("malformed header {header}: {reason}")]
    MalformedHeader {
        /// Which header.
        header: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The timestamp is too far from the coordinator's clock.
    #[error("stale timestamp: {skew_ms} ms from the coordinator's clock (at most ±{max_ms} ms allowed)")]
    StaleTimestamp {
        /// Request time minus coordinator time.
        skew_ms: i64,
        /// The allowed skew.
        max_ms: i64,
    },
    /// The signature does not recover to a valid key.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// The signature is valid but was made by someone else (or over something else).
    #[error("signature does not match address {claimed} (recovered {recovered}): wrong key or the request was altered")]
    AddressMismatch {
        /// The `x-idlewatt-address` header.
        claimed: Address,
        /// Who signed the canonical string the coordinator rebuilt.
        recovered: Address,
    },
    /// The nonce was seen before (checked by the coordinator's store, not here).
    #[error("replayed nonce {0}")]
    ReplayedNonce(String),
}

/// Signing failed (the signer's own error, e.g. a locked keyring).
#[derive(Debug, thiserror::Error)]
#[error("could not sign the request: {0}")]
pub struct SignError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// Lowercase hex SHA-256 of a body.
pub fn body_sha256(body: &[u8]) -> String {
    alloy::hex::encode(Sha256::digest(body))
}

/// A request about to be signed: everything the signature covers except the address.
/// For signers that are async or live elsewhere (the core's keyring wallet): sign
/// [`RequestToSign::message`] with EIP-191 `sign_message`, then
/// [`RequestToSign::into_headers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestToSign {
    /// HTTP method, upper case.
    pub method: String,
    /// Path and query, as sent (e.g. `/v1/leases`).
    pub path: String,
    /// Lowercase hex SHA-256 of the body.
    pub body_sha256: String,
    /// Unix ms.
    pub timestamp_ms: i64,
    /// 32 lowercase hex digits.
    pub nonce: String,
}

impl RequestToSign {
    /// A request signed now, with a fresh random nonce.
    pub fn new(method: &str, path: &str, body: &[u8]) -> Result<Self, SignError> {
        let nonce = B128::try_random().map_err(|e| SignError(Box::new(e)))?;
        Ok(Self::with_time_and_nonce(method, path, body, now_ms(), &alloy::hex::encode(nonce)))
    }

    /// A request with a given timestamp and nonce (tests, replays of one's own queue).
    pub fn with_time_and_nonce(method: &str, path: &str, body: &[u8], timestamp_ms: i64, nonce: &str) -> Self {
        Self {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            body_sha256: body_sha256(body),
            timestamp_ms,
            nonce: nonce.to_owned(),
        }
    }

    /// The canonical string the signature covers (see the module docs).
    pub fn message(&self) -> String {
        canonical_message(&self.method, &self.path, &self.body_sha256, self.timestamp_ms, &self.nonce)
    }

    /// The headers, given the signer's address and its EIP-191 signature of
    /// [`Self::message`].
    pub fn into_headers(self, address: Address, signature: Signature) -> AuthHeaders {
        AuthHeaders {
            address,
            timestamp_ms: self.timestamp_ms,
            nonce: self.nonce,
            signature,
            body_sha256: Some(self.body_sha256),
        }
    }
}

/// The canonical string for a request (see the module docs).
pub fn canonical_message(method: &str, path: &str, body_sha256: &str, timestamp_ms: i64, nonce: &str) -> String {
    format!("{SCHEME}\n{method}\n{path}\n{body_sha256}\n{timestamp_ms}\n{nonce}")
}

/// The authentication headers of a signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHeaders {
    /// Who signed.
    pub address: Address,
    /// When, unix ms.
    pub timestamp_ms: i64,
    /// 32 lowercase hex digits.
    pub nonce: String,
    /// EIP-191 signature of the canonical string.
    pub signature: Signature,
    /// The body's SHA-256 as declared in [`HEADER_CONTENT_SHA256`] (absent from older
    /// signers; the coordinator then hashes the body it read).
    pub body_sha256: Option<String>,
}

impl AuthHeaders {
    /// `(name, value)` pairs to put on the HTTP request.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            (HEADER_ADDRESS, self.address.to_checksum(None)),
            (HEADER_TIMESTAMP, self.timestamp_ms.to_string()),
            (HEADER_NONCE, self.nonce.clone()),
            (HEADER_SIGNATURE, format!("0x{}", alloy::hex::encode(self.signature.as_bytes()))),
        ];
        if let Some(h) = &self.body_sha256 {
            pairs.push((HEADER_CONTENT_SHA256, h.clone()));
        }
        pairs
    }

    /// Parses the headers; `get` looks one up by (lower-case) name.
    pub fn from_lookup<'a>(get: impl Fn(&'static str) -> Option<&'a str>) -> Result<Self, AuthError> {
        let need = |h: &'static str| get(h).map(str::trim).ok_or(AuthError::MissingHeader(h));
        let malformed = |header: &'static str, reason: String| AuthError::MalformedHeader { header, reason };
        let address = need(HEADER_ADDRESS)?.parse::<Address>().map_err(|e| malformed(HEADER_ADDRESS, e.to_string()))?;
        let ts = need(HEADER_TIMESTAMP)?;
        if ts.is_empty() || ts.len() > 15 || !ts.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed(HEADER_TIMESTAMP, "expected unix milliseconds".into()));
        }
        let timestamp_ms = ts.parse::<i64>().map_err(|e| malformed(HEADER_TIMESTAMP, e.to_string()))?;
        let nonce = need(HEADER_NONCE)?;
        if nonce.len() != 32 || !nonce.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(malformed(HEADER_NONCE, "expected 32 lowercase hex digits".into()));
        }
        let sig = need(HEADER_SIGNATURE)?;
        let sig_hex = sig.strip_prefix("0x").unwrap_or(sig);
        if sig_hex.len() != 130 {
            return Err(malformed(HEADER_SIGNATURE, "expected 65 bytes of hex".into()));
        }
        let bytes = alloy::hex::decode(sig_hex).map_err(|e| malformed(HEADER_SIGNATURE, e.to_string()))?;
        let signature = Signature::from_raw(&bytes).map_err(|e| malformed(HEADER_SIGNATURE, e.to_string()))?;
        let body_sha256 = match get(HEADER_CONTENT_SHA256).map(str::trim) {
            None => None,
            Some(h) if h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) => Some(h.to_owned()),
            Some(_) => return Err(malformed(HEADER_CONTENT_SHA256, "expected 64 lowercase hex digits".into())),
        };
        Ok(Self { address, timestamp_ms, nonce: nonce.to_owned(), signature, body_sha256 })
    }
}

/// Signs a request with any EIP-191 signer: `sign` gets the canonical string's bytes
/// and returns the personal-sign signature (e.g. `|m| wallet.sign_message_sync(m)`).
/// The timestamp is now and the nonce random.
pub fn sign_request<F, E>(
    address: Address,
    sign: F,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<AuthHeaders, SignError>
where
    F: FnOnce(&[u8]) -> Result<Signature, E>,
    E: std::error::Error + Send + Sync + 'static,
{
    let req = RequestToSign::new(method, path, body)?;
    let signature = sign(req.message().as_bytes()).map_err(|e| SignError(Box::new(e)))?;
    Ok(req.into_headers(address, signature))
}

/// [`sign_request`] with a local private key.
pub fn sign_request_with_key(
    signer: &PrivateKeySigner,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<AuthHeaders, SignError> {
    sign_request(signer.address(), |m| signer.sign_message_sync(m), method, path, body)
}

/// Checks a request's signature and timestamp against `now_ms`; returns the signer's
/// address. The caller must still check the nonce was never seen (and remember it
/// for [`MAX_CLOCK_SKEW_MS`] past its timestamp).
pub fn verify_request(
    headers: &AuthHeaders,
    method: &str,
    path: &str,
    body: &[u8],
    now_ms: i64,
) -> Result<Address, AuthError> {
    verify_declared(headers, method, path, &body_sha256(body), now_ms)
}

/// [`verify_request`] over a body hash known before the body is read (the
/// [`HEADER_CONTENT_SHA256`] header): the caller must then check that the body it reads
/// hashes to `body_sha256`.
pub fn verify_declared(
    headers: &AuthHeaders,
    method: &str,
    path: &str,
    body_sha256: &str,
    now_ms: i64,
) -> Result<Address, AuthError> {
    let skew_ms = headers.timestamp_ms.saturating_sub(now_ms);
    if skew_ms.abs() > MAX_CLOCK_SKEW_MS {
        return Err(AuthError::StaleTimestamp { skew_ms, max_ms: MAX_CLOCK_SKEW_MS });
    }
    let message =
        canonical_message(&method.to_ascii_uppercase(), path, body_sha256, headers.timestamp_ms, &headers.nonce);
    let recovered = headers
        .signature
        .recover_address_from_msg(message.as_bytes())
        .map_err(|e| AuthError::BadSignature(e.to_string()))?;
    if recovered != headers.address {
        return Err(AuthError::AddressMismatch { claimed: headers.address, recovered });
    }
    Ok(recovered)
}

/// Unix milliseconds now (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&[n; 32].into()).unwrap()
    }

    fn round_trip(h: &AuthHeaders) -> AuthHeaders {
        let pairs = h.to_pairs();
        AuthHeaders::from_lookup(|name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())).unwrap()
    }

    #[test]
    fn a_signed_request_verifies_and_names_its_signer() {
        let k = key(7);
        let h = sign_request_with_key(&k, "post", "/v1/leases", b"{}").unwrap();
        let h = round_trip(&h);
        assert_eq!(verify_request(&h, "POST", "/v1/leases", b"{}", now_ms()), Ok(k.address()));
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let k = key(7);
        let h = sign_request_with_key(&k, "POST", "/v1/leases", b"{}").unwrap();
        let now = now_ms();
        for (m, p, b) in
            [("GET", "/v1/leases", &b"{}"[..]), ("POST", "/v1/nodes", b"{}"), ("POST", "/v1/leases", b"{ }")]
        {
            assert!(matches!(verify_request(&h, m, p, b, now), Err(AuthError::AddressMismatch { .. })), "{m} {p}");
        }
        let mut forged = h.clone();
        forged.address = key(8).address();
        assert!(matches!(
            verify_request(&forged, "POST", "/v1/leases", b"{}", now),
            Err(AuthError::AddressMismatch { .. })
        ));
        let mut other_nonce = h;
        other_nonce.nonce = "0".repeat(32);
        assert!(verify_request(&other_nonce, "POST", "/v1/leases", b"{}", now).is_err());
    }

    #[test]
    fn stale_timestamps_are_refused() {
        let k = key(3);
        let old = now_ms() - MAX_CLOCK_SKEW_MS - 1000;
        let req = RequestToSign::with_time_and_nonce("POST", "/v1/nodes", b"", old, &"ab".repeat(16));
        let sig = k.sign_message_sync(req.message().as_bytes()).unwrap();
        let h = req.into_headers(k.address(), sig);
        assert!(matches!(
            verify_request(&h, "POST", "/v1/nodes", b"", now_ms()),
            Err(AuthError::StaleTimestamp { .. })
        ));
        assert_eq!(verify_request(&h, "POST", "/v1/nodes", b"", old + 1), Ok(k.address()));
    }

    #[test]
    fn malformed_headers_are_named() {
        let h = sign_request_with_key(&key(1), "POST", "/v1/nodes", b"").unwrap();
        let pairs = h.to_pairs();
        for (i, (name, _)) in pairs.iter().enumerate() {
            let err = AuthHeaders::from_lookup(|n| {
                pairs.iter().enumerate().find(|(j, (m, _))| *m == n && *j != i).map(|(_, (_, v))| v.as_str())
            });
            if *name == HEADER_CONTENT_SHA256 {
                // Optional: older signers do not send it.
                assert_eq!(err.map(|h| h.body_sha256), Ok(None));
            } else {
                assert_eq!(err, Err(AuthError::MissingHeader(name)));
            }
            let err = AuthHeaders::from_lookup(|n| {
                if n == *name { Some("zz") } else { pairs.iter().find(|(m, _)| *m == n).map(|(_, v)| v.as_str()) }
            })
            .unwrap_err();
            assert!(matches!(err, AuthError::MalformedHeader { header, .. } if header == *name), "{err}");
        }
    }

    #[test]
    fn a_declared_body_hash_is_what_the_signature_covers() {
        let k = key(5);
        let h = round_trip(&sign_request_with_key(&k, "POST", "/v1/leases/x/result", b"{\"c\":1}").unwrap());
        let declared = h.body_sha256.clone().unwrap();
        assert_eq!(declared, body_sha256(b"{\"c\":1}"));
        assert_eq!(verify_declared(&h, "POST", "/v1/leases/x/result", &declared, now_ms()), Ok(k.address()));
        assert!(verify_declared(&h, "POST", "/v1/leases/x/result", &body_sha256(b"{}"), now_ms()).is_err());
    }
}
