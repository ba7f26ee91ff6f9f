//! Links the `signet` binary as a position-dependent executable on Linux.
//!
//! A position-independent executable is relocated by the dynamic loader at
//! every start: for this binary, some 43,000 relocations, and a private copy
//! of every page they touch. A profile of `signet verify-blob` put a third of
//! its CPU time there (about 0.7 ms of a 3.6 ms run), in a command whose whole
//! job takes a few milliseconds. cosign and sigstore-go, as Debian builds them,
//! are position-dependent too. The cost is address-space randomisation of the
//! binary itself (shared libraries, heap and stack stay randomised); the code
//! is still compiled position-independent, only the final link differs.
//! `SIGNET_BUILD_PIE=1` keeps the default (PIE) link. `docs/ARCHITECTURE.md`
//! has the measurements.
//!
//! A static build (`-C target-feature=+crt-static`, as `scripts/build-release.sh`
//! makes the shipped binary) chooses its link mode from the relocation model,
//! so nothing is added to it here.

fn main() {
    println!("cargo::rerun-if-env-changed=SIGNET_BUILD_PIE");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let pie_asked = std::env::var_os("SIGNET_BUILD_PIE").is_some_and(|v| !v.is_empty() && v != "0");
    let crt_static = std::env::var("CARGO_CFG_TARGET_FEATURE")
        .is_ok_and(|features| features.split(',').any(|f| f == "crt-static"));
    if linux && !pie_asked && !crt_static {
        println!("cargo::rustc-link-arg-bin=signet=-no-pie");
    }
}
