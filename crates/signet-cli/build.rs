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

fn main() {
    println!("cargo::rerun-if-env-changed=SIGNET_BUILD_PIE");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let pie_asked = std::env::var_os("SIGNET_BUILD_PIE").is_some_and(|v| !v.is_empty() && v != "0");
    if linux && !pie_asked {
        println!("cargo::rustc-link-arg-bin=signet=-no-pie");
    }
}
