//! The check that a profile the user named (`--profile`, or `AWS_PROFILE`) exists in the
//! shared config files, made before any AWS call. Without it aws-config passes over the
//! missing profile and ends at the instance metadata service, whose refusal then reads as
//! "credentials are missing" and hides the typo.

use std::borrow::Cow;

use aws_runtime::env_config::file::EnvConfigFiles as ProfileFiles;
use aws_types::os_shim_internal::{Env, Fs};

use super::AwsSettings;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProfileError {
    #[error(
        "profile {name} ({source_of_name}) does not exist in {files}; profiles found: {found}. Nothing was written. Pass an existing profile with --profile, or set it up with `aws configure --profile {name}` or `aws configure sso`."
    )]
    Missing {
        name: String,
        source_of_name: &'static str,
        files: String,
        found: String,
    },
    #[error("cannot read the AWS profile files ({files}): {reason}. Nothing was written.")]
    Unreadable { files: String, reason: String },
}

/// The config and credentials files aws-config reads, named as the user would find them.
fn profile_file_names(env: &Env) -> String {
    let name = |var: &str, default: &str| match env.get(var) {
        Ok(path) if !path.is_empty() => format!("{path} ({var})"),
        _ => default.to_string(),
    };
    format!(
        "{} or {}",
        name("AWS_CONFIG_FILE", "~/.aws/config"),
        name("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
    )
}

/// Fails when the profile `settings` (else `AWS_PROFILE`) names is in neither shared file.
/// No profile named: nothing to check (the chain's `default` profile may rightly be absent).
pub async fn check(settings: &AwsSettings) -> Result<(), ProfileError> {
    check_in(settings, &Env::real(), &Fs::real()).await
}

async fn check_in(settings: &AwsSettings, env: &Env, fs: &Fs) -> Result<(), ProfileError> {
    let (name, source_of_name) = match (&settings.profile, env.get("AWS_PROFILE")) {
        (Some(name), _) => (name.clone(), "--profile"),
        (None, Ok(name)) if !name.is_empty() => (name, "AWS_PROFILE"),
        _ => return Ok(()),
    };
    let files = profile_file_names(env);
    let profiles = aws_config::profile::load(
        fs,
        env,
        &ProfileFiles::default(),
        Some(Cow::Owned(name.clone())),
    )
    .await
    .map_err(|err| ProfileError::Unreadable {
        files: files.clone(),
        reason: err.to_string(),
    })?;
    if profiles.get_profile(&name).is_some() {
        return Ok(());
    }
    // Shown as text: a name is the user's input, and a control character in it must not
    // reach the terminal.
    let shown = |text: &str| gxp_evidence_core::report::format::visible(text);
    let mut found: Vec<String> = profiles.profiles().map(shown).collect();
    found.sort_unstable();
    Err(ProfileError::Missing {
        name: if name.is_empty() {
            "\"\"".to_string()
        } else {
            shown(&name)
        },
        source_of_name,
        files,
        found: if found.is_empty() {
            "none".to_string()
        } else {
            found.join(", ")
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(profile: Option<&str>) -> AwsSettings {
        AwsSettings {
            profile: profile.map(str::to_string),
            endpoint_url: None,
        }
    }

    fn files() -> (Env, Fs) {
        let env = Env::from_slice(&[
            ("HOME", "/home/qa"),
            ("AWS_CONFIG_FILE", "/cfg/config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/cfg/credentials"),
        ]);
        let fs = Fs::from_slice(&[
            (
                "/cfg/config",
                "[profile b]\nregion = eu-west-1\n[default]\n",
            ),
            ("/cfg/credentials", "[a]\naws_access_key_id = x\n"),
        ]);
        (env, fs)
    }

    #[tokio::test]
    async fn a_named_profile_in_either_file_passes() {
        let (env, fs) = files();
        for name in ["a", "b", "default"] {
            assert_eq!(check_in(&settings(Some(name)), &env, &fs).await, Ok(()));
        }
        assert_eq!(check_in(&settings(None), &env, &fs).await, Ok(()));
    }

    #[tokio::test]
    async fn a_missing_profile_is_named_with_the_profiles_found() {
        let (env, fs) = files();
        let err = check_in(&settings(Some("nope")), &env, &fs)
            .await
            .expect_err("missing");
        let text = err.to_string();
        assert!(text.starts_with("profile nope (--profile) does not exist in /cfg/config (AWS_CONFIG_FILE) or /cfg/credentials (AWS_SHARED_CREDENTIALS_FILE); profiles found: a, b, default."), "{text}");
    }
}
