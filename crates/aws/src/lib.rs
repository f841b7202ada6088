//! gxp-evidence's AWS adapter: live evidence collection (`collect`) and the AWS KMS signer
//! (`kms`), the only code that imports the AWS SDK or an async runtime. It produces the
//! core's evidence snapshot and implements the core's `SigningKey`.

pub mod archive_s3;
pub mod collect;
pub mod kms;
