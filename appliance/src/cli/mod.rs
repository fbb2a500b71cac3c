//! The command line shared by vtysh and bgpd: FRR's grammar, the command
//! table and the help texts.

pub mod commands;
pub mod grammar;
pub mod help;

use std::sync::OnceLock;

pub use grammar::{CliError, Grammar, Kind, Mode, Resolved};

/// The grammar of every command, built once.
pub fn grammar() -> &'static Grammar {
    static G: OnceLock<Grammar> = OnceLock::new();
    G.get_or_init(|| Grammar::new(commands::SPECS))
}

/// FRR's `?` listing for `line` in `mode`: one choice per line, the token
/// padded to a common width, then its description; `<cr>` last.
pub fn help_text(mode: Mode, line: &str) -> Result<String, CliError> {
    let choices = grammar().help(mode, line)?;
    // After `bgp` an address is a neighbor to clear, or a network to show.
    let clearing = line.split_whitespace().next().is_some_and(|w| w.len() >= 2 && "clear".starts_with(w));
    let rows: Vec<(&str, &str)> = choices
        .iter()
        .map(|c| match c.token {
            Some(t) => (
                t.text(),
                help::describe(t, if clearing && c.after == Some("bgp") { Some("clear bgp") } else { c.after }),
            ),
            None => ("<cr>", ""),
        })
        .collect();
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (tok, text) in rows {
        if text.is_empty() {
            out.push_str(&format!("  {tok}\n"));
        } else {
            out.push_str(&format!("  {tok:width$}  {text}\n"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
