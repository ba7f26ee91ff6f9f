//! The command line itself: shell completions, and batch progress that is
//! drawn on a terminal and nowhere else.

use std::process::Command;

use crate::harness::{AIR_GAPPED, Local, signet_key_pair, tests};

tests![
    completions_for_each_shell_load,
    batch_progress_on_a_terminal_only,
];

fn completions_for_each_shell_load(local: &Local) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = local.signet(d, &["completion", shell]).ok();
        assert!(
            run.stdout.len() > 1000 && run.stdout.contains("signet"),
            "{shell}: {} bytes",
            run.stdout.len()
        );
        // Subcommands and cosign's flag names are completed.
        for word in ["verify-blob", "allow-http-registry"] {
            assert!(run.stdout.contains(word), "{shell} lacks {word}");
        }
        std::fs::write(d.join(shell), &run.stdout).unwrap();
    }
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(d.join("bash"))
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    // Sourced into a shell, it registers a completion function for signet.
    let loaded = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p signet",
            d.join("bash").display()
        ))
        .output()
        .unwrap();
    assert!(
        loaded.status.success() && String::from_utf8_lossy(&loaded.stdout).contains("signet"),
        "bash: {}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    let run = local.signet(d, &["completion", "tcsh"]);
    assert_eq!(run.code, 2, "an unknown shell is a usage error");
}

fn batch_progress_on_a_terminal_only(local: &Local) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    signet_key_pair(local, d, "k");
    // A registry address where nothing listens: each image fails at once.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let images: Vec<String> = (1..=3)
        .map(|n| format!("127.0.0.1:{port}/progress/app:{n}"))
        .collect();
    let mut args = vec![
        "verify",
        AIR_GAPPED,
        "--key",
        "k.pub",
        "--allow-http-registry",
    ];
    args.extend(images.iter().map(String::as_str));

    // Standard error is a pipe: the errors, and no progress.
    let quiet = local.signet(d, &args);
    assert_eq!(quiet.code, 1, "{}", quiet.stderr);
    assert!(quiet.stderr.contains("3 of 3 images failed verification"));
    assert!(
        !quiet.stderr.contains("images verified") && !quiet.stderr.contains('\r'),
        "{:?}",
        quiet.stderr
    );

    // On a terminal (`script` provides one): the count of images done and failed.
    let command = format!("{} {}", env!("CARGO_BIN_EXE_signet"), args.join(" "));
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(d)
        .env("HOME", local.home.path())
        .output()
        .unwrap();
    let terminal = String::from_utf8_lossy(&out.stdout);
    assert!(
        terminal.contains("/3 images verified") && terminal.contains("failed"),
        "{terminal:?}"
    );
    assert!(terminal.contains("3 of 3 images failed verification"));
}
