//! RFC 3161 trusted timestamps, independent of any package: the TimeStampReq a signer sends
//! (SHA-256 message imprint, random nonce, certReq), the offline check of the TimeStampResp a
//! time-stamping authority (TSA) answers — status granted, a CMS SignedData over a TSTInfo
//! stamping exactly the expected digest, the TSA's signature over the signed attributes
//! (RSA PKCS#1 v1.5 or PSS, ECDSA P-256), the ESS signing-certificate binding and the
//! critical id-kp-timeStamping extended key usage (RFC 3161 §2.3) — and the auditor's trusted
//! TSA roots (`verify --tsa-certs`), against which the TSA's certificate is chained at the
//! stamp's time. The HTTP request itself is made outside this crate, through
//! `TimestampAuthority`, so the offline core never touches the network.

use std::path::Path;

use chrono::{DateTime, NaiveDateTime, Utc};
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use der::asn1::{Any, BitString, Int, OctetString, Uint};
use der::{Decode, Encode, Sequence, Tag, Tagged};
use sha2::Digest;
use x509_cert::Certificate;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectKeyIdentifier};
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::hash::lower_hex;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// The longest chain from the TSA's certificate to a trusted one that is followed.
const MAX_CHAIN: usize = 8;

/// Sends a DER TimeStampReq to a TSA and returns the DER TimeStampResp it answered. The CLI
/// implements it over HTTP(S); this crate only builds the request and checks the answer.
pub trait TimestampAuthority {
    /// Where the requests go, for messages (`http://tsa.example/`).
    fn url(&self) -> &str;
    fn request(&self, query: &[u8]) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>>;
}

/// RFC 3161 §2.4.1 `MessageImprint`.
#[derive(Debug, Clone, PartialEq, Eq, Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

/// RFC 3161 §2.4.1 `TimeStampReq`.
#[derive(Debug, Clone, Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    nonce: Option<Uint>,
    #[asn1(default = "Default::default")]
    cert_req: bool,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<Extensions>,
}

/// RFC 3161 §2.4.2 `PKIStatusInfo`.
#[derive(Debug, Clone, Sequence)]
struct PkiStatusInfo {
    status: u32,
    #[asn1(optional = "true")]
    status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    fail_info: Option<BitString>,
}

/// RFC 3161 §2.4.2 `TimeStampResp`.
#[derive(Debug, Clone, Sequence)]
struct TimeStampResp {
    status: PkiStatusInfo,
    #[asn1(optional = "true")]
    time_stamp_token: Option<ContentInfo>,
}

/// RFC 3161 §2.4.2 `Accuracy`.
#[derive(Debug, Clone, Sequence)]
struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<u32>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<u16>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<u16>,
}

/// RFC 3161 §2.4.2 `TSTInfo`. `gen_time` is kept as read: TSAs may send fractions of a
/// second, which DER GeneralizedTime decoders of whole seconds reject.
#[derive(Debug, Clone, Sequence)]
struct TstInfo {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: Any,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<Extensions>,
}

/// RFC 5035 `ESSCertIDv2` (the hash algorithm defaults to SHA-256).
#[derive(Debug, Clone, Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<Any>,
}

#[derive(Debug, Clone, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

/// RFC 2634 `ESSCertID` (a SHA-1 hash of the certificate).
#[derive(Debug, Clone, Sequence)]
struct EssCertId {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<Any>,
}

#[derive(Debug, Clone, Sequence)]
struct SigningCertificate {
    certs: Vec<EssCertId>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

/// A request for a timestamp over a SHA-256 digest, with the nonce the answer must echo (so
/// an old answer for the same digest cannot be replayed to the signer).
pub struct TimestampRequest {
    der: Vec<u8>,
    nonce: Vec<u8>,
}

impl TimestampRequest {
    /// TimeStampReq v1: SHA-256 `digest`, a random 64-bit nonce, certReq true (the TSA's
    /// certificate travels in the token, so the token can be checked offline).
    pub fn new(digest: &[u8; 32]) -> Result<Self, TimestampProblem> {
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce)
            .map_err(|err| TimestampProblem::Request(format!("no random nonce: {err}")))?;
        let request = TimeStampReq {
            version: 1,
            message_imprint: sha256_imprint(digest)?,
            req_policy: None,
            nonce: Some(Uint::new(&nonce).map_err(asn1_request)?),
            cert_req: true,
            extensions: None,
        };
        let der = request.to_der().map_err(asn1_request)?;
        let nonce = Uint::new(&nonce).map_err(asn1_request)?.as_bytes().to_vec();
        Ok(Self { der, nonce })
    }

    /// The DER TimeStampReq, to POST as `application/timestamp-query`.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The answer echoes this request's nonce (RFC 3161 §2.4.2).
    pub fn check_nonce(&self, stamp: &VerifiedTimestamp) -> Result<(), TimestampProblem> {
        if stamp.nonce.as_deref() == Some(self.nonce.as_slice()) {
            Ok(())
        } else {
            Err(TimestampProblem::Nonce)
        }
    }
}

fn asn1_request(err: der::Error) -> TimestampProblem {
    TimestampProblem::Request(err.to_string())
}

fn sha256_imprint(digest: &[u8; 32]) -> Result<MessageImprint, TimestampProblem> {
    Ok(MessageImprint {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: ID_SHA256,
            parameters: Some(Any::null()),
        },
        hashed_message: OctetString::new(digest.to_vec()).map_err(asn1_request)?,
    })
}

/// A time-stamp token whose TSA signature, imprint and certificate usage were checked
/// (`verify_response`); whether its TSA is trusted is `chain_to`'s question.
#[derive(Debug, Clone)]
pub struct VerifiedTimestamp {
    /// The TSA's time (genTime), in UTC.
    pub time: DateTime<Utc>,
    /// The TSA's accuracy, when it states one (`±1 s`).
    pub accuracy: Option<String>,
    /// The TSA's certificate subject (RFC 4514).
    pub tsa_subject: String,
    /// The token's serial number, lowercase hex.
    pub serial: String,
    /// The TSA policy the token was issued under.
    pub policy: String,
    nonce: Option<Vec<u8>>,
    signer: Certificate,
    /// The other certificates the token carries (intermediates, possibly the root).
    certificates: Vec<Certificate>,
}

impl VerifiedTimestamp {
    /// How a person reads the stamp: `2026-11-30 09:00:00 UTC (±1 s) by TSA CN=…, serial 2a`.
    pub fn describe(&self) -> String {
        let accuracy = self
            .accuracy
            .as_ref()
            .map(|a| format!(" ({a})"))
            .unwrap_or_default();
        format!(
            "{}{accuracy} by TSA {}, serial {}",
            self.time.format("%Y-%m-%d %H:%M:%S UTC"),
            crate::report::format::visible(&self.tsa_subject),
            self.serial
        )
    }

    /// Chains the TSA's certificate to one of `trusted` through the certificates the token
    /// carries, each valid at the stamp's time (a TSA certificate that has since expired
    /// still proves what it signed while it was valid; revocation is not checked offline).
    /// Returns the subject of the trusted certificate reached.
    pub fn chain_to(&self, trusted: &TrustedTsaCertificates) -> Result<String, TimestampProblem> {
        let mut current = &self.signer;
        for _ in 0..MAX_CHAIN {
            check_valid_at(current, self.time)?;
            if let Some(anchor) = trusted.certs.iter().find(|t| {
                *t == current || (names_issuer(current, t) && signed_by(current, t).is_ok())
            }) {
                return Ok(anchor.tbs_certificate().subject().to_string());
            }
            let Some(issuer) = self.certificates.iter().find(|c| {
                *c != current
                    && names_issuer(current, c)
                    && is_ca(c)
                    && signed_by(current, c).is_ok()
            }) else {
                break;
            };
            current = issuer;
        }
        Err(TimestampProblem::Untrusted {
            subject: self.tsa_subject.clone(),
            file: trusted.file.clone(),
        })
    }
}

/// Checks a DER TimeStampResp offline: the TSA granted it; its token is a CMS SignedData over
/// a TSTInfo that stamps `expected_sha256`; the one signer's certificate is in the token,
/// named by the ESS signing-certificate attribute, and for time stamping only (critical
/// extended key usage); the signed attributes hold the TSTInfo's content type and digest,
/// and the TSA's signature over them verifies.
pub fn verify_response(
    response: &[u8],
    expected_sha256: &[u8; 32],
) -> Result<VerifiedTimestamp, TimestampProblem> {
    let unreadable =
        |what: &str, err: der::Error| TimestampProblem::Unreadable(format!("{what}: {err}"));
    let response = TimeStampResp::from_der(response)
        .map_err(|e| unreadable("not an RFC 3161 TimeStampResp", e))?;
    let status = &response.status;
    if status.status > 1 {
        return Err(TimestampProblem::NotGranted {
            status: status_name(status.status),
            text: status
                .status_string
                .as_ref()
                .map(|texts| texts.join("; "))
                .unwrap_or_default(),
        });
    }
    let token = response
        .time_stamp_token
        .ok_or(TimestampProblem::Unreadable("granted, but no token".into()))?;
    if token.content_type != ID_SIGNED_DATA {
        return Err(TimestampProblem::Unreadable(format!(
            "the token is {}, not CMS SignedData",
            token.content_type
        )));
    }
    let signed: SignedData = token
        .content
        .decode_as()
        .map_err(|e| unreadable("the token's SignedData", e))?;
    let encapsulated = &signed.encap_content_info;
    if encapsulated.econtent_type != ID_CT_TST_INFO {
        return Err(TimestampProblem::Unreadable(format!(
            "the token signs {}, not a TSTInfo",
            encapsulated.econtent_type
        )));
    }
    let content: OctetString = encapsulated
        .econtent
        .as_ref()
        .ok_or(TimestampProblem::Unreadable(
            "the token holds no TSTInfo".into(),
        ))?
        .decode_as()
        .map_err(|e| unreadable("the token's content", e))?;
    let tst_bytes = content.as_bytes();
    let info = TstInfo::from_der(tst_bytes).map_err(|e| unreadable("the TSTInfo", e))?;

    let imprint = &info.message_imprint;
    if imprint.hash_algorithm.oid != ID_SHA256 {
        return Err(TimestampProblem::ImprintAlgorithm(
            imprint.hash_algorithm.oid.to_string(),
        ));
    }
    if imprint.hashed_message.as_bytes() != expected_sha256 {
        return Err(TimestampProblem::OtherDigest {
            stamped: lower_hex(imprint.hashed_message.as_bytes()),
            expected: lower_hex(expected_sha256),
        });
    }
    let time = parse_generalized_time(&info.gen_time)?;

    let signer_infos: Vec<&SignerInfo> = signed.signer_infos.0.iter().collect();
    let [signer_info] = signer_infos.as_slice() else {
        return Err(TimestampProblem::SignerCount(signer_infos.len()));
    };
    let certificates: Vec<Certificate> = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            cms::cert::CertificateChoices::Certificate(cert) => Some(cert.clone()),
            _ => None,
        })
        .collect();
    let signer = certificates
        .iter()
        .find(|cert| identifies(&signer_info.sid, cert))
        .cloned()
        .ok_or(TimestampProblem::NoSignerCertificate)?;

    check_signed_attributes(signer_info, tst_bytes, &signer)?;
    let signed_attributes = signer_info
        .signed_attrs
        .as_ref()
        .ok_or(TimestampProblem::SignedAttributes("none".into()))?
        .to_der()
        .map_err(|e| unreadable("the signed attributes", e))?;
    verify_signature(
        &signer_info.signature_algorithm,
        Some(&signer_info.digest_alg.oid),
        signer.tbs_certificate().subject_public_key_info(),
        &signed_attributes,
        signer_info.signature.as_bytes(),
    )
    .map_err(TimestampProblem::Signature)?;
    check_time_stamping_usage(&signer)?;

    Ok(VerifiedTimestamp {
        time,
        accuracy: info.accuracy.as_ref().map(describe_accuracy),
        tsa_subject: signer.tbs_certificate().subject().to_string(),
        serial: lower_hex(info.serial_number.as_bytes()),
        policy: info.policy.to_string(),
        nonce: info
            .nonce
            .as_ref()
            .and_then(|n| Uint::new(n.as_bytes()).ok())
            .map(|n| n.as_bytes().to_vec()),
        certificates: certificates
            .into_iter()
            .filter(|cert| *cert != signer)
            .collect(),
        signer,
    })
}

fn status_name(status: u32) -> String {
    let name = match status {
        2 => "rejection",
        3 => "waiting",
        4 => "revocationWarning",
        5 => "revocationNotification",
        _ => "unknown",
    };
    format!("{status} ({name})")
}

fn describe_accuracy(accuracy: &Accuracy) -> String {
    let micros = u64::from(accuracy.seconds.unwrap_or(0)) * 1_000_000
        + u64::from(accuracy.millis.unwrap_or(0)) * 1000
        + u64::from(accuracy.micros.unwrap_or(0));
    if micros % 1_000_000 == 0 {
        format!("±{} s", micros / 1_000_000)
    } else {
        format!("±{} ms", micros as f64 / 1000.0)
    }
}

/// GeneralizedTime `YYYYMMDDHHMMSS[.f+]Z`, the only form RFC 3161 §2.4.2 allows.
fn parse_generalized_time(value: &Any) -> Result<DateTime<Utc>, TimestampProblem> {
    let bad = |why: &str| TimestampProblem::Unreadable(format!("the TSTInfo's genTime {why}"));
    if value.tag() != Tag::GeneralizedTime {
        return Err(bad("is not a GeneralizedTime"));
    }
    let text = std::str::from_utf8(value.value()).map_err(|_| bad("is not text"))?;
    let body = text.strip_suffix('Z').ok_or_else(|| bad("is not UTC"))?;
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    if whole.len() != 14 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(&format!("{text:?} is malformed")));
    }
    let naive = NaiveDateTime::parse_from_str(whole, "%Y%m%d%H%M%S")
        .map_err(|_| bad(&format!("{text:?} is malformed")))?;
    let nanos: u32 = format!("{fraction:0<9}")
        .get(..9)
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0);
    Ok(naive.and_utc() + chrono::Duration::nanoseconds(i64::from(nanos)))
}

fn identifies(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    let tbs = cert.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            id.issuer == *tbs.issuer() && id.serial_number == *tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(id) => {
            matches!(tbs.get_extension::<SubjectKeyIdentifier>(), Ok(Some((_, own))) if own == *id)
        }
    }
}

/// RFC 5652 §5.3/§11 and RFC 3161 §2.4.1: the signed attributes name the TSTInfo content
/// type, carry its digest (so the TSTInfo cannot change under the signature), and name the
/// signing certificate (ESS), so another certificate for the same key cannot be swapped in.
fn check_signed_attributes(
    signer_info: &SignerInfo,
    content: &[u8],
    signer: &Certificate,
) -> Result<(), TimestampProblem> {
    let missing = |what: &str| TimestampProblem::SignedAttributes(format!("no {what} attribute"));
    let attributes = signer_info
        .signed_attrs
        .as_ref()
        .ok_or_else(|| TimestampProblem::SignedAttributes("none".into()))?;
    let single = |oid: ObjectIdentifier| -> Option<&Any> {
        let attribute = attributes.iter().find(|a| a.oid == oid)?;
        let values: Vec<&Any> = attribute.values.iter().collect();
        match values.as_slice() {
            [value] => Some(*value),
            _ => None,
        }
    };
    let content_type: ObjectIdentifier = single(ID_CONTENT_TYPE)
        .ok_or_else(|| missing("content-type"))?
        .decode_as()
        .map_err(|e| TimestampProblem::SignedAttributes(format!("content-type: {e}")))?;
    if content_type != ID_CT_TST_INFO {
        return Err(TimestampProblem::SignedAttributes(format!(
            "the content-type attribute names {content_type}, not a TSTInfo"
        )));
    }
    let digest: OctetString = single(ID_MESSAGE_DIGEST)
        .ok_or_else(|| missing("message-digest"))?
        .decode_as()
        .map_err(|e| TimestampProblem::SignedAttributes(format!("message-digest: {e}")))?;
    let hash = Hash::from_oid(&signer_info.digest_alg.oid)?;
    if digest.as_bytes() != hash.digest(content).as_slice() {
        return Err(TimestampProblem::ContentModified);
    }
    let certificate_der = signer
        .to_der()
        .map_err(|e| TimestampProblem::Unreadable(format!("the TSA certificate: {e}")))?;
    let ess_matches = if let Some(value) = single(ID_SIGNING_CERTIFICATE_V2) {
        let ess: SigningCertificateV2 = value.decode_as().map_err(|e| {
            TimestampProblem::SignedAttributes(format!("signing-certificate-v2: {e}"))
        })?;
        let first = ess
            .certs
            .first()
            .ok_or_else(|| missing("ESS certificate id"))?;
        let hash = match &first.hash_algorithm {
            Some(algorithm) => Hash::from_oid(&algorithm.oid)?,
            None => Hash::Sha256,
        };
        first.cert_hash.as_bytes() == hash.digest(&certificate_der).as_slice()
    } else if let Some(value) = single(ID_SIGNING_CERTIFICATE) {
        let ess: SigningCertificate = value
            .decode_as()
            .map_err(|e| TimestampProblem::SignedAttributes(format!("signing-certificate: {e}")))?;
        let first = ess
            .certs
            .first()
            .ok_or_else(|| missing("ESS certificate id"))?;
        first.cert_hash.as_bytes() == sha1::Sha1::digest(&certificate_der).as_slice()
    } else {
        return Err(missing("signing-certificate"));
    };
    if ess_matches {
        Ok(())
    } else {
        Err(TimestampProblem::SignedAttributes(
            "the signing-certificate attribute names another certificate than the one that signed"
                .into(),
        ))
    }
}

/// RFC 3161 §2.3: the TSA's certificate carries exactly one extended key usage, critical,
/// with the one purpose id-kp-timeStamping — a TLS or code-signing key cannot stamp time.
fn check_time_stamping_usage(cert: &Certificate) -> Result<(), TimestampProblem> {
    let usage = cert
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .map_err(|e| {
            TimestampProblem::Usage(format!("its extended key usage is unreadable: {e}"))
        })?;
    match usage {
        Some((true, ExtendedKeyUsage(purposes))) if purposes == [ID_KP_TIME_STAMPING] => Ok(()),
        Some((false, _)) => Err(TimestampProblem::Usage(
            "its extended key usage is not marked critical".into(),
        )),
        Some((true, ExtendedKeyUsage(purposes))) => Err(TimestampProblem::Usage(format!(
            "its extended key usage is {}, not only id-kp-timeStamping",
            purposes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        None => Err(TimestampProblem::Usage(
            "it has no extended key usage id-kp-timeStamping".into(),
        )),
    }
}

fn check_valid_at(cert: &Certificate, time: DateTime<Utc>) -> Result<(), TimestampProblem> {
    let validity = cert.tbs_certificate().validity();
    let seconds = |t: x509_cert::time::Time| t.to_unix_duration().as_secs() as i64;
    let at = time.timestamp();
    if at < seconds(validity.not_before) || at > seconds(validity.not_after) {
        return Err(TimestampProblem::NotValidAtStamp {
            subject: cert.tbs_certificate().subject().to_string(),
        });
    }
    Ok(())
}

fn names_issuer(child: &Certificate, issuer: &Certificate) -> bool {
    child.tbs_certificate().issuer() == issuer.tbs_certificate().subject()
}

fn is_ca(cert: &Certificate) -> bool {
    matches!(
        cert.tbs_certificate().get_extension::<BasicConstraints>(),
        Ok(Some((_, BasicConstraints { ca: true, .. })))
    )
}

fn signed_by(child: &Certificate, issuer: &Certificate) -> Result<(), String> {
    let tbs = child
        .tbs_certificate()
        .to_der()
        .map_err(|e| e.to_string())?;
    let signature = child
        .signature()
        .as_bytes()
        .ok_or("the certificate signature has unused bits")?;
    verify_signature(
        child.signature_algorithm(),
        None,
        issuer.tbs_certificate().subject_public_key_info(),
        &tbs,
        signature,
    )
}

#[derive(Debug, Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(oid: &ObjectIdentifier) -> Result<Self, TimestampProblem> {
        match *oid {
            ID_SHA256 => Ok(Hash::Sha256),
            ID_SHA384 => Ok(Hash::Sha384),
            ID_SHA512 => Ok(Hash::Sha512),
            other => Err(TimestampProblem::Algorithm(format!("digest {other}"))),
        }
    }

    fn digest(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => sha2::Sha256::digest(bytes).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(bytes).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(bytes).to_vec(),
        }
    }
}

/// Verifies `signature` over `message` with `key`: RSA PKCS#1 v1.5 with SHA-256/384/512,
/// RSASSA-PSS with SHA-256 and MGF1-SHA-256 (any salt length the parameters state), or ECDSA
/// P-256 with SHA-256. In CMS, `rsaEncryption` and `id-ecPublicKey` take the hash from the
/// signer's digest algorithm (`cms_digest`).
fn verify_signature(
    algorithm: &AlgorithmIdentifierOwned,
    cms_digest: Option<&ObjectIdentifier>,
    key: &SubjectPublicKeyInfoOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    use p256::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    let key_der = key.to_der().map_err(|e| e.to_string())?;
    let rsa_key = || -> Result<rsa::PublicKey, String> {
        let key = rsa::PublicKey::from_public_key_der(&key_der)
            .map_err(|e| format!("the TSA's RSA key cannot be read: {e}"))?;
        if rsa::traits::PublicKeyParts::size(&key) < 256 {
            return Err("RSA keys shorter than 2048 bits are not accepted".into());
        }
        Ok(key)
    };
    let invalid = |_| "the signature does not verify".to_string();
    let pkcs1 = |hash: Hash| -> Result<(), String> {
        let key = rsa_key()?;
        let signature =
            rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| "malformed RSA signature")?;
        match hash {
            Hash::Sha256 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key)
                .verify(message, &signature)
                .map_err(invalid),
            Hash::Sha384 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(key)
                .verify(message, &signature)
                .map_err(invalid),
            Hash::Sha512 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(key)
                .verify(message, &signature)
                .map_err(invalid),
        }
    };
    let cms_hash = || {
        cms_digest
            .ok_or_else(|| format!("{} without a digest algorithm", algorithm.oid))
            .and_then(|oid| Hash::from_oid(oid).map_err(|e| e.to_string()))
    };
    match algorithm.oid {
        SHA256_WITH_RSA => pkcs1(Hash::Sha256),
        SHA384_WITH_RSA => pkcs1(Hash::Sha384),
        SHA512_WITH_RSA => pkcs1(Hash::Sha512),
        RSA_ENCRYPTION => pkcs1(cms_hash()?),
        RSASSA_PSS => {
            let params: rsa::pkcs1::RsaPssParams<Any> = algorithm
                .parameters
                .as_ref()
                .ok_or("RSASSA-PSS without parameters")?
                .decode_as()
                .map_err(|e| format!("RSASSA-PSS parameters: {e}"))?;
            let mgf_hash: Option<AlgorithmIdentifierOwned> = params
                .mask_gen
                .parameters
                .as_ref()
                .map(|p| AlgorithmIdentifierOwned {
                    oid: p.oid,
                    parameters: p.parameters.clone(),
                });
            if params.hash.oid != ID_SHA256
                || params.mask_gen.oid != MGF1
                || mgf_hash.map(|h| h.oid) != Some(ID_SHA256)
            {
                return Err("RSASSA-PSS other than SHA-256 with MGF1-SHA-256".into());
            }
            let verifier = rsa::pss::VerifyingKey::<sha2::Sha256>::new_with_salt_len(
                rsa_key()?,
                usize::from(params.salt_len),
            );
            let signature = rsa::pss::Signature::try_from(signature)
                .map_err(|_| "malformed RSASSA-PSS signature")?;
            verifier.verify(message, &signature).map_err(invalid)
        }
        ECDSA_WITH_SHA256 | EC_PUBLIC_KEY => {
            if algorithm.oid == EC_PUBLIC_KEY && !matches!(cms_hash()?, Hash::Sha256) {
                return Err("ECDSA with another digest than SHA-256".into());
            }
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(&key_der)
                .map_err(|e| format!("the key is not an ECDSA P-256 key: {e}"))?;
            let signature = p256::ecdsa::DerSignature::try_from(signature)
                .map_err(|_| "malformed ECDSA signature")?;
            key.verify(message, &signature).map_err(invalid)
        }
        other => Err(format!("unsupported signature algorithm {other}")),
    }
}

/// The certificates an auditor trusts to issue TSA certificates (`verify --tsa-certs FILE`):
/// PEM `CERTIFICATE` blocks — TSA roots, intermediates, or TSA certificates themselves.
#[derive(Debug, Clone)]
pub struct TrustedTsaCertificates {
    file: String,
    certs: Vec<Certificate>,
}

/// The trusted TSA certificates file cannot be used (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("TSA certificates file {file}{}: {message}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
pub struct TsaCertificatesError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

const PEM_CERT_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_CERT_END: &str = "-----END CERTIFICATE-----";

impl TrustedTsaCertificates {
    pub fn load(path: &Path) -> Result<Self, TsaCertificatesError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| TsaCertificatesError {
            file: file.clone(),
            line: None,
            message: err.to_string(),
        })?;
        Self::parse(&file, &text)
    }

    pub fn parse(file: &str, text: &str) -> Result<Self, TsaCertificatesError> {
        let error = |line: Option<usize>, message: String| TsaCertificatesError {
            file: file.to_string(),
            line,
            message,
        };
        let mut certs = Vec::new();
        let mut block: Option<(usize, String)> = None;
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            match &mut block {
                None if line == PEM_CERT_BEGIN => block = Some((index + 1, format!("{line}\n"))),
                None => {}
                Some((start, pem)) => {
                    pem.push_str(line);
                    pem.push('\n');
                    if line == PEM_CERT_END {
                        let start = *start;
                        let cert = <Certificate as der::DecodePem>::from_pem(pem.as_bytes())
                            .map_err(|err| {
                                error(
                                    Some(start),
                                    format!(
                                        "the CERTIFICATE block is not an X.509 certificate: {err}"
                                    ),
                                )
                            })?;
                        certs.push(cert);
                        block = None;
                    }
                }
            }
        }
        if let Some((start, _)) = block {
            return Err(error(Some(start), format!("no {PEM_CERT_END} line")));
        }
        if certs.is_empty() {
            return Err(error(None, format!("no {PEM_CERT_BEGIN} block")));
        }
        Ok(Self {
            file: file.to_string(),
            certs,
        })
    }
}

/// Why a timestamp was not obtained or is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampProblem {
    #[error("the time-stamp request cannot be built: {0}")]
    Request(String),
    #[error("unreadable: {0}")]
    Unreadable(String),
    #[error("the TSA did not grant a timestamp: status {status}{}", if text.is_empty() { String::new() } else { format!(": {text}") })]
    NotGranted { status: String, text: String },
    #[error("the token stamps a digest made with {0}, not SHA-256")]
    ImprintAlgorithm(String),
    #[error(
        "the token is for another sign-off: it stamps SHA-256 {stamped}, this sign-off's digest is {expected}"
    )]
    OtherDigest { stamped: String, expected: String },
    #[error("the TSA's answer does not carry the nonce of the request (a replayed answer?)")]
    Nonce,
    #[error("the token has {0} signers; a time-stamp token has exactly one")]
    SignerCount(usize),
    #[error("the token does not carry the TSA's certificate (certReq)")]
    NoSignerCertificate,
    #[error("signed attributes: {0}")]
    SignedAttributes(String),
    #[error(
        "the TSTInfo is not the one the TSA signed (its digest differs from the signed message-digest)"
    )]
    ContentModified,
    #[error("the TSA's signature does not verify: {0}")]
    Signature(String),
    #[error("unsupported {0}")]
    Algorithm(String),
    #[error("the TSA's certificate is not for time stamping: {0}")]
    Usage(String),
    #[error("certificate {subject} was not valid at the stamp's time")]
    NotValidAtStamp { subject: String },
    #[error("the TSA's certificate ({subject}) does not chain to a certificate in {file}")]
    Untrusted { subject: String, file: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> Result<DateTime<Utc>, TimestampProblem> {
        let any = Any::new(Tag::GeneralizedTime, text.as_bytes()).unwrap();
        parse_generalized_time(&any)
    }

    #[test]
    fn gen_time_is_utc_with_optional_fractions() {
        assert_eq!(
            time("20261130090102Z").unwrap().to_rfc3339(),
            "2026-11-30T09:01:02+00:00"
        );
        assert_eq!(
            time("20261130090102.25Z")
                .unwrap()
                .timestamp_subsec_millis(),
            250
        );
        for bad in [
            "20261130090102",
            "202611300901Z",
            "20261130090102.x5Z",
            "20261340090102Z",
        ] {
            assert!(time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_request_is_v1_sha256_with_a_nonce_and_cert_req() {
        let request = TimestampRequest::new(&[7; 32]).unwrap();
        let decoded = TimeStampReq::from_der(request.der()).unwrap();
        assert_eq!(decoded.version, 1);
        assert_eq!(decoded.message_imprint.hash_algorithm.oid, ID_SHA256);
        assert_eq!(decoded.message_imprint.hashed_message.as_bytes(), &[7; 32]);
        assert!(decoded.cert_req);
        let other = TimestampRequest::new(&[7; 32]).unwrap();
        assert_ne!(request.nonce, other.nonce, "a fresh nonce per request");
    }

    #[test]
    fn garbage_and_refusals_are_named() {
        assert!(matches!(
            verify_response(b"garbage", &[0; 32]),
            Err(TimestampProblem::Unreadable(_))
        ));
        let refused = TimeStampResp {
            status: PkiStatusInfo {
                status: 2,
                status_string: Some(vec!["bad algorithm".into()]),
                fail_info: None,
            },
            time_stamp_token: None,
        }
        .to_der()
        .unwrap();
        assert_eq!(
            verify_response(&refused, &[0; 32]).unwrap_err().to_string(),
            "the TSA did not grant a timestamp: status 2 (rejection): bad algorithm"
        );
    }

    #[test]
    fn the_trusted_certificates_file_names_its_problems() {
        let err = TrustedTsaCertificates::parse("roots.pem", "# nothing\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "TSA certificates file roots.pem: no -----BEGIN CERTIFICATE----- block"
        );
        let err = TrustedTsaCertificates::parse(
            "roots.pem",
            "\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("TSA certificates file roots.pem, line 2: "),
            "{err}"
        );
    }
}
