//! cosign reads every flag of a command also from the environment, as
//! `COSIGN_` and the flag's name in capitals with `_` for `-`
//! (`COSIGN_ALLOW_HTTP_REGISTRY=true`, `COSIGN_TIMEOUT=5m`). A flag on the
//! command line wins over the variable, and the variable over the default.
//! signet does the same for cosign's flags, and not for its own.

use clap::{Arg, Command};

/// signet's own flags, which cosign does not have.
const SIGNET_ONLY: &[&str] = &["concurrency", "match-repository", "record-key-version"];

/// The commands cosign has, whose flags take `COSIGN_*` variables.
const COSIGN_COMMANDS: &[&str] = &[
    "generate-key-pair",
    "import-key-pair",
    "public-key",
    "sign",
    "verify",
    "sign-blob",
    "verify-blob",
];

/// Whether any `COSIGN_` variable is set; without one, binding is a no-op.
pub fn any_set() -> bool {
    std::env::vars_os().any(|(name, _)| name.as_encoded_bytes().starts_with(b"COSIGN_"))
}

/// Binds `COSIGN_<FLAG>` to each cosign flag of `command` (and the global
/// flags). The variables are not shown in `--help`, nor their values.
pub fn bind(mut command: Command) -> Command {
    command = command.mut_args(with_env);
    for name in COSIGN_COMMANDS {
        command = command.mut_subcommand(name, |c| c.mut_args(with_env));
    }
    command
}

fn with_env(arg: Arg) -> Arg {
    let Some(long) = arg.get_long() else {
        return arg;
    };
    if arg.is_positional() || SIGNET_ONLY.contains(&long) || matches!(long, "help" | "version") {
        return arg;
    }
    let var = format!("COSIGN_{}", long.to_ascii_uppercase().replace('-', "_"));
    arg.env(var).hide_env(true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cosign_flags_get_their_variables_and_signet_flags_do_not() {
        use clap::CommandFactory;
        let mut command = crate::args::Cli::command();
        command.build();
        let mut command = super::bind(command);
        command.build();
        let sign = command.find_subcommand("sign").unwrap();
        let env_of = |id: &str| {
            sign.get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(|a| a.get_env())
                .map(|v| v.to_string_lossy().into_owned())
        };
        assert_eq!(
            env_of("allow_http_registry").as_deref(),
            Some("COSIGN_ALLOW_HTTP_REGISTRY")
        );
        assert_eq!(env_of("timeout").as_deref(), Some("COSIGN_TIMEOUT"));
        assert_eq!(env_of("concurrency"), None);
        assert_eq!(env_of("images"), None);
    }
}
