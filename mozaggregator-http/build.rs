//! Embeds the git commit and its date into the binary for `/__version__`
//! (`MOZAGGREGATOR_COMMIT`, `MOZAGGREGATOR_BUILD`). Outside a git checkout (a source tarball,
//! a crate from a registry) both are empty unless given in the environment at build time.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-env-changed=MOZAGGREGATOR_COMMIT");
    println!("cargo:rerun-if-env-changed=MOZAGGREGATOR_BUILD");
    // A new commit or checkout changes the reflog of HEAD (worktrees have their own).
    if let Some(reflog) = git(&["rev-parse", "--git-path", "logs/HEAD"]) {
        println!("cargo:rerun-if-changed={reflog}");
    }
    if let Some(head) = git(&["rev-parse", "--git-path", "HEAD"]) {
        println!("cargo:rerun-if-changed={head}");
    }
    let commit = std::env::var("MOZAGGREGATOR_COMMIT")
        .ok()
        .or_else(|| git(&["rev-parse", "HEAD"]))
        .unwrap_or_default();
    // The build is named by the commit's date (reproducible: the same commit builds the same
    // binary), with "+dirty" when the working tree had uncommitted changes.
    let build = std::env::var("MOZAGGREGATOR_BUILD").ok().or_else(|| {
        let date = git(&["show", "-s", "--format=%cI", "HEAD"])?;
        let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some();
        Some(if dirty { format!("{date}+dirty") } else { date })
    });
    println!("cargo:rustc-env=MOZAGGREGATOR_COMMIT={commit}");
    println!(
        "cargo:rustc-env=MOZAGGREGATOR_BUILD={}",
        build.unwrap_or_default()
    );
}
