//! Typed reading of a TOML table that remembers where it is.
//!
//! serde's derive would report an unknown key as "unknown field" with a byte
//! span; users asked for `file: table.key: what is wrong`, so the profile is
//! walked by hand through this small reader instead.

use std::fmt;
use std::str::FromStr;

use toml::{Table, Value};

/// An error in a profile: where (dotted key) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    pub key: String,
    pub message: String,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.key, self.message)
        }
    }
}

/// A table being consumed: every key read is removed, and `finish` rejects
/// what is left, so a misspelt key is never silently ignored.
pub struct Keys {
    path: String,
    table: Table,
    allowed: &'static [&'static str],
}

impl Keys {
    pub fn new(path: &str, table: Table, allowed: &'static [&'static str]) -> Self {
        Keys { path: path.to_string(), table, allowed }
    }

    pub fn key(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{}", self.path, name)
        }
    }

    pub fn err(&self, name: &str, message: impl Into<String>) -> KeyError {
        KeyError { key: self.key(name), message: message.into() }
    }

    fn take(&mut self, name: &str) -> Option<Value> {
        debug_assert!(self.allowed.contains(&name), "{name} not declared");
        self.table.remove(name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.table.contains_key(name)
    }

    pub fn opt_str(&mut self, name: &str) -> Result<Option<String>, KeyError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.err(name, format!("expected a string, found {}", kind(&v)))),
        }
    }

    pub fn str(&mut self, name: &str) -> Result<String, KeyError> {
        self.opt_str(name)?.ok_or_else(|| self.err(name, "missing (required)"))
    }

    pub fn opt_int(&mut self, name: &str) -> Result<Option<i64>, KeyError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Integer(i)) => Ok(Some(i)),
            Some(v) => Err(self.err(name, format!("expected an integer, found {}", kind(&v)))),
        }
    }

    pub fn opt_bool(&mut self, name: &str) -> Result<Option<bool>, KeyError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(b)),
            Some(v) => Err(self.err(name, format!("expected true or false, found {}", kind(&v)))),
        }
    }

    /// An integer or a string, as given.
    pub fn opt_int_or_str(&mut self, name: &str) -> Result<Option<Result<i64, String>>, KeyError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Integer(i)) => Ok(Some(Ok(i))),
            Some(Value::String(s)) => Ok(Some(Err(s))),
            Some(v) => Err(self.err(name, format!("expected an integer or a string, found {}", kind(&v)))),
        }
    }

    /// A string parsed with `FromStr`; `what` names the expected kind in errors.
    pub fn opt_parsed<T: FromStr>(&mut self, name: &str, what: &str) -> Result<Option<T>, KeyError> {
        match self.opt_str(name)? {
            None => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| self.err(name, format!("{s:?} is not {what}"))),
        }
    }

    pub fn parsed<T: FromStr>(&mut self, name: &str, what: &str) -> Result<T, KeyError> {
        self.opt_parsed(name, what)?.ok_or_else(|| self.err(name, "missing (required)"))
    }

    /// An array of strings, each parsed with `FromStr`.
    pub fn opt_list<T: FromStr>(&mut self, name: &str, what: &str) -> Result<Option<Vec<T>>, KeyError> {
        let items = match self.take(name) {
            None => return Ok(None),
            Some(Value::Array(items)) => items,
            Some(v) => return Err(self.err(name, format!("expected an array of strings, found {}", kind(&v)))),
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let key = format!("{name}[{i}]");
            match item {
                Value::String(s) => out.push(s.parse().map_err(|_| self.err(&key, format!("{s:?} is not {what}")))?),
                v => return Err(self.err(&key, format!("expected a string, found {}", kind(&v)))),
            }
        }
        Ok(Some(out))
    }

    pub fn opt_table(&mut self, name: &str, allowed: &'static [&'static str]) -> Result<Option<Keys>, KeyError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Table(t)) => Ok(Some(Keys::new(&self.key(name), t, allowed).known()?)),
            Some(v) => Err(self.err(name, format!("expected a table, found {}", kind(&v)))),
        }
    }

    /// An array of tables (`[[name]]`).
    pub fn opt_tables(&mut self, name: &str, allowed: &'static [&'static str]) -> Result<Vec<Keys>, KeyError> {
        let items = match self.take(name) {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(v) => {
                return Err(self.err(name, format!("expected an array of tables ([[{name}]]), found {}", kind(&v))))
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let key = format!("{name}[{i}]");
            match item {
                Value::Table(t) => out.push(Keys::new(&self.key(&key), t, allowed).known()?),
                v => return Err(self.err(&key, format!("expected a table, found {}", kind(&v)))),
            }
        }
        Ok(out)
    }

    /// Rejects any key that was not read.
    pub fn finish(self) -> Result<(), KeyError> {
        match self.table.keys().next() {
            Some(name) => Err(self.unknown_key(name)),
            None => Ok(()),
        }
    }

    /// Refuses a key the table may not have, first: a typo is said as
    /// such (with the key meant, when one is close), not as the key it
    /// hides being "missing".
    pub fn known(self) -> Result<Self, KeyError> {
        match self.table.keys().find(|k| !self.allowed.contains(&k.as_str())) {
            Some(name) => Err(self.unknown_key(name)),
            None => Ok(self),
        }
    }

    fn unknown_key(&self, name: &str) -> KeyError {
        let mut expected: Vec<&str> = self.allowed.to_vec();
        expected.sort_unstable();
        let close = expected.iter().filter(|e| distance(name, e) <= 2).min_by_key(|e| distance(name, e));
        let hint = close.map_or(String::new(), |c| format!(": did you mean {c}?"));
        self.err(name, format!("unknown key{hint} (expected one of: {})", expected.join(", ")))
    }
}

/// Edit distance (Levenshtein) of two short keys.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != b[j])).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}
