//! `gxp-evidence completion SHELL` and `gxp-evidence man`: shell completions and roff man
//! pages generated from the command's own clap definition, so what is installed describes
//! exactly the binary that wrote it (a validated environment installs no separate docs that
//! could drift from the tool).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory};

use super::Cli;

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to complete for: bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write gxp-evidence.1 and one page per command (gxp-evidence-report.1, …) into this
    /// existing directory, replacing pages of those names. Without it the main page goes to
    /// stdout.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

const BIN_NAME: &str = "gxp-evidence";

/// The completion script for `args.shell`, on stdout.
pub fn completion(args: &CompletionArgs) -> Result<()> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, BIN_NAME, &mut script);
    std::io::stdout()
        .write_all(&script)
        .context("cannot write the completion script to stdout")
}

/// The man pages: into `--out DIR`, or the main page on stdout.
pub fn man(args: &ManArgs) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let command = Cli::command();
    let Some(dir) = &args.out else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command).render(&mut page)?;
        return std::io::stdout()
            .write_all(&page)
            .context("cannot write the man page to stdout");
    };
    if !dir.is_dir() {
        anyhow::bail!(
            "--out {}: not an existing directory (create it first, e.g. ~/.local/share/man/man1)",
            dir.display()
        );
    }
    let pages = pages(command)?;
    // Every page's place is checked before the first is written: none or all are replaced.
    if let Some(taken) = pages
        .iter()
        .map(|(name, _)| dir.join(name))
        .find(|path| path.symlink_metadata().is_ok_and(|meta| !meta.is_file()))
    {
        anyhow::bail!(
            "{} exists and is not a regular file; nothing was written",
            taken.display()
        );
    }
    for (name, page) in &pages {
        let path = dir.join(name);
        gxp_evidence_core::atomic::write_file(&path, page, true)
            .with_context(|| format!("cannot write {}", path.display()))?;
        // Manuals are for every user of the machine (the temporary file was private).
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("cannot make {} readable", path.display()))?;
    }
    eprintln!("wrote {} man pages to {}", pages.len(), dir.display());
    Ok(())
}

/// Every page, rendered in memory first: a failure leaves no half set behind.
fn pages(command: clap::Command) -> Result<Vec<(String, Vec<u8>)>> {
    let mut command = command;
    command.build();
    let mut pages = Vec::new();
    let mut main_page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut main_page)?;
    pages.push((format!("{BIN_NAME}.1"), main_page));
    // `help` is clap's own, added by build(); its page would only say "print help".
    for sub in command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
    {
        let name = format!("{BIN_NAME}-{}", sub.get_name());
        let mut page = Vec::new();
        clap_mangen::Man::new(sub.clone().name(name.clone()).bin_name(bin_name(sub)))
            .render(&mut page)?;
        pages.push((format!("{name}.1"), page));
    }
    Ok(pages)
}

/// How the page's synopsis spells the command: `gxp-evidence report`.
fn bin_name(sub: &clap::Command) -> String {
    format!("{BIN_NAME} {}", sub.get_name())
}
