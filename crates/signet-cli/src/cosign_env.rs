//! cosign reads every flag of a command also from the environment, as
//! `COSIGN_` and the flag's name in capitals with `_` for `-`
//! (`COSIGN_ALLOW_HTTP_REGISTRY=true`, `COSIGN_TIMEOUT=5m`). A flag on the
//! command line wins over the variable, and the variable over the default.
//! signet does the same for cosign's flags, and not for its own.

use std::ffi::OsString;

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

/// Binds `COSIGN_<FLAG>` to the global flags and to the flags of the command
/// `args` invoke. Commands define their flags only when they run (`defer`),
/// so only that command's flags are defined here, and only its flags get
/// variables: defining the flags of every command would cost a short
/// command (such as one `verify-blob`) a tenth of its run. When the command
/// cannot be told from `args`, every command's flags are defined and bound.
pub fn bind_invoked(command: Command, args: &[OsString]) -> Command {
    match invoked(args) {
        Some(name) => command
            .mut_args(with_env)
            .mut_subcommand(name, |c| define_flags(name, c).mut_args(with_env)),
        None => {
            let mut command = command;
            command.build();
            bind(command)
        }
    }
}

/// Binds `COSIGN_<FLAG>` to each cosign flag of `command` (and the global
/// flags), whose commands' flags must be defined already (`build`). The
/// variables are not shown in `--help`, nor their values.
pub fn bind(mut command: Command) -> Command {
    command = command.mut_args(with_env);
    for name in COSIGN_COMMANDS {
        command = command.mut_subcommand(name, |c| c.mut_args(with_env));
    }
    command
}

/// The cosign command `args` (the command line after the program name)
/// invoke: the first word that is not a global flag or its value.
fn invoked(args: &[OsString]) -> Option<&'static str> {
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let word = word.to_str()?;
        match word {
            // The global flags that take a separate value.
            "-t" | "--timeout" | "--output-file" => {
                words.next();
            }
            _ if word.starts_with('-') => {}
            _ => return COSIGN_COMMANDS.iter().copied().find(|c| *c == word),
        }
    }
    None
}

/// Defines the flags of the cosign command `name` now, in place of the
/// deferred definition the derive attached (which is dropped, so that the
/// flags are not defined twice).
fn define_flags(name: &str, command: Command) -> Command {
    use crate::args::{
        GenerateKeyPairArgs, ImportKeyPairArgs, PublicKeyArgs, SignArgs, SignBlobArgs, VerifyArgs,
        VerifyBlobArgs,
    };
    use clap::Args;
    let command = command.defer(|c| c);
    match name {
        "generate-key-pair" => GenerateKeyPairArgs::augment_args(command),
        "import-key-pair" => ImportKeyPairArgs::augment_args(command),
        "public-key" => PublicKeyArgs::augment_args(command),
        "sign" => SignArgs::augment_args(command),
        "verify" => VerifyArgs::augment_args(command),
        "sign-blob" => SignBlobArgs::augment_args(command),
        "verify-blob" => VerifyBlobArgs::augment_args(command),
        _ => command,
    }
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
    use clap::CommandFactory;

    /// Each command's flags and variables, as defining only the invoked
    /// command gives them, are those of defining every command.
    #[test]
    fn binding_the_invoked_command_equals_binding_them_all() {
        let flags = |command: &clap::Command| {
            let mut out: Vec<_> = command
                .get_arguments()
                .filter(|a| !a.is_global_set() && a.get_id() != "help")
                .map(|a| (a.get_id().to_string(), a.get_env().map(|e| e.to_owned())))
                .collect();
            out.sort();
            out
        };
        let mut all = crate::args::Cli::command();
        all.build();
        let all = super::bind(all);
        for name in super::COSIGN_COMMANDS {
            let argv = ["-t".into(), "5m".into(), "-d".into(), (*name).into()];
            assert_eq!(super::invoked(&argv), Some(*name));
            let mut one = super::bind_invoked(crate::args::Cli::command(), &argv);
            one.build();
            let expected = flags(all.find_subcommand(name).unwrap());
            assert!(!expected.is_empty(), "{name} has flags");
            assert_eq!(
                flags(one.find_subcommand(name).unwrap()),
                expected,
                "{name}"
            );
        }
        assert_eq!(super::invoked(&["server".into(), "run".into()]), None);
        assert_eq!(
            super::invoked(&["--output-file".into(), "sign".into()]),
            None
        );
    }

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
