//! completion: shell completions for `signet`, printed to standard output.

use crate::args::CompletionArgs;
use crate::exit::Failure;

pub fn completion(args: CompletionArgs) -> Result<(), Failure> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut crate::command(), "signet", &mut script);
    crate::output::print(&String::from_utf8_lossy(&script))?;
    Ok(())
}
