//! The `gxp-evidence` binary; everything lives in the library (see `cli`).

fn main() -> std::process::ExitCode {
    gxp_evidence::cli::main()
}
