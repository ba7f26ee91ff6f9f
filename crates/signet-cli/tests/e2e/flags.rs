//! cosign's whole flag surface: every flag of every covered command is
//! either accepted or refused with `not supported`, never a usage error
//! (which would turn a cosign script into a failure for the wrong reason).
//! The flags and signet's answers are in `cosign-flags.txt`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::harness::{AIR_GAPPED, Local, Peers, Run, tests};

tests![
    every_cosign_flag_is_accepted_or_refused_never_a_usage_error,
    every_flag_cosign_lists_is_in_the_table,
    booleans_take_go_spellings_and_only_after_equals,
    cosign_environment_variables_set_flags,
    global_flags_work_before_and_after_the_command,
];

const COMMANDS: &[&str] = &[
    "sign",
    "verify",
    "sign-blob",
    "verify-blob",
    "generate-key-pair",
    "public-key",
    "import-key-pair",
];

#[derive(Debug)]
struct Row {
    command: String,
    flag: String,
    value: String,
    answer: String,
}

fn table() -> Vec<Row> {
    let text = include_str!("cosign-flags.txt");
    let mut rows = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert!(cols.len() >= 4, "short row: {line}");
        let commands: Vec<&str> = if cols[0] == "*" {
            COMMANDS.to_vec()
        } else {
            vec![cols[0]]
        };
        for command in commands {
            rows.push(Row {
                command: command.to_owned(),
                flag: cols[1].to_owned(),
                value: cols[2].to_owned(),
                answer: cols[3].to_owned(),
            });
        }
    }
    rows
}

/// The arguments of a row: the flag under test, then what the command needs
/// to fail fast and without a network (a key file that does not exist, or
/// outputs that already exist), leaving out whatever the row itself gives.
fn arguments(row: &Row) -> Vec<String> {
    let mut args = vec![row.command.clone()];
    match row.value.as_str() {
        "-" => args.push(row.flag.clone()),
        v if v.starts_with('=') => args.push(format!("{}{v}", row.flag)),
        v => args.extend([row.flag.clone(), v.to_owned()]),
    }
    let given = |names: &[&str]| names.contains(&row.flag.as_str());
    let key_flag = ["--key", "-k"];
    match row.command.as_str() {
        "sign" | "sign-blob" | "public-key" if !given(&key_flag) => {
            args.extend(["--key".into(), "missing.key".into()]);
        }
        "verify" | "verify-blob" if !given(&key_flag) => {
            args.extend(["--key".into(), "missing.pub".into()]);
        }
        "import-key-pair" if !given(&key_flag) => {
            args.extend(["--key".into(), "missing.pem".into()]);
        }
        _ => {}
    }
    if row.command == "verify-blob" && !given(&["--signature", "--bundle"]) {
        args.extend(["--signature".into(), "sig.txt".into()]);
    }
    match row.command.as_str() {
        "sign" | "verify" => args.push("127.0.0.1:9/flags/app:v1".into()),
        "sign-blob" | "verify-blob" => args.push("blob".into()),
        _ => {}
    }
    args
}

fn is_usage_error(run: &Run) -> bool {
    run.code == 2
        || run.stderr.contains("unexpected argument")
        || run.stderr.contains("Usage:")
        || run.stderr.contains("error: ")
}

fn every_cosign_flag_is_accepted_or_refused_never_a_usage_error(local: &Local) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Outputs that exist, so that key commands stop before doing work.
    for f in [
        "cosign.key",
        "cosign.pub",
        "existing.key",
        "existing.pub",
        "import-cosign.key",
    ] {
        std::fs::write(d.join(f), "x").unwrap();
    }
    std::fs::write(d.join("blob"), "blob").unwrap();
    let rows = table();
    assert!(rows.len() > 200, "{} rows", rows.len());
    let mut problems = Vec::new();
    for row in &rows {
        let args = arguments(row);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = local.signet(d, &argv);
        let line = format!("signet {}", argv.join(" "));
        let refused = run.stderr.contains("not supported: ");
        let pending = run.stderr.contains("not supported yet: ");
        let problem = if is_usage_error(&run) {
            Some("a usage error")
        } else if run.stderr.contains("panicked") {
            Some("a panic")
        } else {
            match row.answer.as_str() {
                "accept" if refused || pending => Some("refused, but the table says accept"),
                "refuse" if !refused || run.code == 0 => Some("not refused with `not supported:`"),
                "pending" if !pending || run.code == 0 => {
                    Some("not refused with `not supported yet:`")
                }
                "refuse" | "pending" if run.stderr.trim().lines().count() != 1 => {
                    Some("a refusal of more than one line")
                }
                "accept" | "refuse" | "pending" => None,
                _ => Some("an unknown answer in the table"),
            }
        };
        if let Some(problem) = problem {
            problems.push(format!(
                "{line}: {problem} (exit {})\n    {}",
                run.code,
                run.stderr.trim().replace('\n', "\n    ")
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} rows:\n{}",
        problems.len(),
        rows.len(),
        problems.join("\n")
    );
}

/// The flags `cosign CMD --help` lists, long and short.
fn cosign_help_flags(peers: &Peers, dir: &Path, command: &str) -> BTreeSet<String> {
    let help = peers.cosign(dir, &[command, "--help"]).ok();
    let mut flags = BTreeSet::new();
    for line in help.stdout.lines() {
        let line = line.trim_start();
        if !line.starts_with('-') {
            continue;
        }
        for word in line.split([',', ' ', '=']) {
            if word.starts_with('-') && word.len() > 1 && !matches!(word, "-h" | "--help") {
                flags.insert(word.to_owned());
            }
        }
    }
    flags
}

fn every_flag_cosign_lists_is_in_the_table(peers: &Peers) {
    let dir = tempfile::tempdir().unwrap();
    let rows = table();
    let mut missing = Vec::new();
    let mut total = 0;
    for command in COMMANDS {
        let listed = cosign_help_flags(peers, dir.path(), command);
        assert!(listed.len() > 3, "cosign {command} --help: {listed:?}");
        total += listed.iter().filter(|f| f.starts_with("--")).count();
        for flag in listed {
            if !rows.iter().any(|r| &r.command == command && r.flag == flag) {
                missing.push(format!("{command} {flag}"));
            }
        }
    }
    assert!(missing.is_empty(), "not in cosign-flags.txt: {missing:?}");
    // The count the table was made from: cosign 2.5's 183 flags.
    assert_eq!(total, 183, "cosign's flag count changed");
}

fn booleans_take_go_spellings_and_only_after_equals(local: &Local) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for spelling in [
        "1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False",
    ] {
        let flag = format!("--sk={spelling}");
        let run = local.signet(d, &["public-key", &flag, "--key", "missing.key"]);
        let truthy = ["1", "t", "T", "TRUE", "true", "True"].contains(&spelling);
        assert_eq!(
            run.stderr.contains("not supported: --sk"),
            truthy,
            "{flag}: {}",
            run.stderr
        );
        assert!(!is_usage_error(&run), "{flag}: {}", run.stderr);
    }
    let run = local.signet(d, &["public-key", "--sk=maybe", "--key", "k"]);
    assert_eq!(
        run.code, 2,
        "a bad boolean is a usage error: {}",
        run.stderr
    );
    assert!(run.stderr.contains("not a boolean"), "{}", run.stderr);
    // `--flag IMAGE`: IMAGE stays an image, not the flag's value.
    let run = local.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "missing.pub",
            "--local-image",
            "some/dir",
        ],
    );
    assert!(!is_usage_error(&run), "{}", run.stderr);
    assert!(run.stderr.contains("missing.pub"), "{}", run.stderr);
}

fn cosign_environment_variables_set_flags(local: &Local) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // COSIGN_SK=true is --sk=true; the command line wins over the variable.
    let run = local.signet_with(
        d,
        &["public-key", "--key", "missing.key"],
        &[("COSIGN_SK", "true")],
        None,
    );
    assert!(run.stderr.contains("not supported: --sk"), "{}", run.stderr);
    let run = local.signet_with(
        d,
        &["public-key", "--sk=false", "--key", "missing.key"],
        &[("COSIGN_SK", "true")],
        None,
    );
    assert!(!run.stderr.contains("not supported"), "{}", run.stderr);
    // COSIGN_KEY names the key, and COSIGN_OUTPUT_FILE the output file.
    local
        .signet(d, &["generate-key-pair", "--output-key-prefix", "k"])
        .ok();
    let run = local
        .signet_with(
            d,
            &["public-key"],
            &[
                ("COSIGN_KEY", "k.key"),
                ("COSIGN_OUTPUT_FILE", "out.pem"),
                ("COSIGN_PASSWORD", crate::harness::PASSWORD),
            ],
            None,
        )
        .ok();
    assert_eq!(run.stdout, "");
    assert_eq!(
        std::fs::read_to_string(d.join("out.pem")).unwrap(),
        std::fs::read_to_string(d.join("k.pub")).unwrap()
    );
    // signet's own flags take no COSIGN_ variable.
    let run = local.signet_with(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--key",
            "missing.pub",
            "127.0.0.1:9/a:b",
        ],
        &[("COSIGN_CONCURRENCY", "not a number")],
        None,
    );
    assert!(!is_usage_error(&run), "{}", run.stderr);
}

fn global_flags_work_before_and_after_the_command(local: &Local) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    local
        .signet(d, &["generate-key-pair", "--output-key-prefix", "k"])
        .ok();
    let expected = std::fs::read_to_string(d.join("k.pub")).unwrap();
    // --output-file sends standard output to the file, in either position.
    for (n, args) in [
        vec!["--output-file", "a.pem", "public-key", "--key", "k.key"],
        vec!["public-key", "--key", "k.key", "--output-file", "b.pem"],
    ]
    .into_iter()
    .enumerate()
    {
        let run = local.signet(d, &args).ok();
        assert_eq!(run.stdout, "", "{args:?}");
        let file = if n == 0 { "a.pem" } else { "b.pem" };
        assert_eq!(std::fs::read_to_string(d.join(file)).unwrap(), expected);
    }
    // -d turns on debug lines on standard error.
    let run = local
        .signet(d, &["-d", "public-key", "--key", "k.key"])
        .ok();
    assert!(run.stderr.contains("DEBUG"), "{}", run.stderr);
    let run = local.signet(d, &["public-key", "--key", "k.key"]).ok();
    assert!(!run.stderr.contains("DEBUG"), "{}", run.stderr);
    // --timeout is a Go duration; a command that outlives it fails with one line.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = format!("{}/app:v1", listener.local_addr().unwrap());
    let started = std::time::Instant::now();
    let run = local.signet(
        d,
        &[
            "verify",
            AIR_GAPPED,
            "--timeout",
            "500ms",
            "--key",
            "k.pub",
            "--allow-http-registry",
            &silent,
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("timed out after 500ms (--timeout)"),
        "{}",
        run.stderr
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    drop(listener);
    let run = local.signet(d, &["public-key", "--key", "k.key", "-t", "soon"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not a duration"), "{}", run.stderr);
}
