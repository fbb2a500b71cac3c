//! The interactive shell: reedline with FRR's prompt, `?` help without
//! Enter, Tab completion from the grammar, and history.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use reedline::{
    default_emacs_keybindings, ColumnarMenu, Completer, Emacs, FileBackedHistory, KeyCode, KeyModifiers, MenuBuilder,
    Prompt, PromptEditMode, PromptHistorySearch, Reedline, ReedlineEvent, ReedlineMenu, Signal, Span, Suggestion,
};

use super::session::{Bgpd, Session};
use crate::cli::{self, Mode};

struct FrrPrompt(String);

impl Prompt for FrrPrompt {
    fn render_prompt_left(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0)
    }
    fn render_prompt_right(&self) -> Cow<'_, str> {
        Cow::Borrowed("")
    }
    fn render_prompt_indicator(&self, _: PromptEditMode) -> Cow<'_, str> {
        Cow::Borrowed("")
    }
    fn render_prompt_multiline_indicator(&self) -> Cow<'_, str> {
        Cow::Borrowed("")
    }
    fn render_prompt_history_search_indicator(&self, h: PromptHistorySearch) -> Cow<'_, str> {
        Cow::Owned(format!("(search: {}) ", h.term))
    }
}

/// Completes the word under the cursor from the grammar, in the current
/// mode (shared with the loop, which changes it).
struct GrammarCompleter(Arc<Mutex<Mode>>);

impl Completer for GrammarCompleter {
    fn complete(&mut self, line: &str, pos: usize) -> Vec<Suggestion> {
        let mode = *self.0.lock().unwrap_or_else(|e| e.into_inner());
        let before = &line[..pos];
        let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let (mode, text) = match do_rest(mode, before) {
            Some(rest) => (Mode::Exec, rest),
            None => (mode, before),
        };
        cli::grammar()
            .complete(mode, text)
            .into_iter()
            .map(|k| Suggestion {
                value: k.to_string(),
                span: Span::new(start, pos),
                append_whitespace: true,
                ..Default::default()
            })
            .collect()
    }
}

/// In a config mode, what follows `do ` is an exec command.
fn do_rest(mode: Mode, line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("do ")?;
    (mode != Mode::Exec).then_some(rest)
}

const HELP: &str = "\u{1}help";

pub fn run<B: Bgpd>(mut s: Session<B>, host: &str) -> bool {
    let mode = Arc::new(Mutex::new(s.mode()));
    let mut keys = default_emacs_keybindings();
    keys.add_binding(
        KeyModifiers::NONE,
        KeyCode::Tab,
        ReedlineEvent::UntilFound(vec![ReedlineEvent::Menu("completion_menu".into()), ReedlineEvent::MenuNext]),
    );
    keys.add_binding(KeyModifiers::NONE, KeyCode::Char('?'), ReedlineEvent::ExecuteHostCommand(HELP.into()));
    keys.add_binding(KeyModifiers::SHIFT, KeyCode::Char('?'), ReedlineEvent::ExecuteHostCommand(HELP.into()));
    let menu = ColumnarMenu::default().with_name("completion_menu");
    let history = FileBackedHistory::new(1000).expect("an in-memory history");
    let mut ed = Reedline::create()
        .with_history(Box::new(history))
        .with_completer(Box::new(GrammarCompleter(mode.clone())))
        .with_quick_completions(true)
        .with_partial_completions(true)
        .with_menu(ReedlineMenu::EngineCompleter(Box::new(menu)))
        .with_edit_mode(Box::new(Emacs::new(keys)));
    let mut ok = true;
    loop {
        let m = s.mode();
        *mode.lock().unwrap_or_else(|e| e.into_inner()) = m;
        let prompt = FrrPrompt(format!("{host}{}# ", m.prompt()));
        match ed.read_line(&prompt) {
            Ok(Signal::Success(line)) => {
                match s.run(&line) {
                    Ok(out) => print!("{out}"),
                    Err(e) => {
                        println!("{}", e.trim_end());
                        ok = false;
                    }
                }
                if s.quit {
                    break;
                }
            }
            Ok(Signal::HostCommand(_)) => {
                let buf = ed.current_buffer_contents().to_string();
                let (hm, text) = match do_rest(m, &buf) {
                    Some(rest) => (Mode::Exec, rest),
                    None => (m, buf.as_str()),
                };
                println!();
                match cli::help_text(hm, text) {
                    Ok(h) => print!("{h}"),
                    Err(e) => println!("{}", e.message(text)),
                }
            }
            Ok(Signal::CtrlC) => {}
            Ok(Signal::CtrlD) => break,
            Ok(_) => {}
            Err(e) => {
                eprintln!("vtysh: terminal: {e}");
                return false;
            }
        }
    }
    ok
}
