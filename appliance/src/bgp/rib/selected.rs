//! The selection a RIB change reports.

use super::Path;

/// A selection as a change carries it: a single path inline, as nearly
/// every prefix has (a list of one was an allocation and a free for each
/// prefix of a full table, in the thread that reads the feeds).
#[derive(Debug, Clone, Default)]
pub enum Selected {
    #[default]
    None,
    One(Path),
    Many(Vec<Path>),
}

impl std::ops::Deref for Selected {
    type Target = [Path];
    fn deref(&self) -> &[Path] {
        match self {
            Selected::None => &[],
            Selected::One(p) => std::slice::from_ref(p),
            Selected::Many(v) => v,
        }
    }
}

impl PartialEq for Selected {
    fn eq(&self, other: &Selected) -> bool {
        self[..] == other[..]
    }
}

impl Eq for Selected {}

impl From<&[Path]> for Selected {
    fn from(paths: &[Path]) -> Selected {
        match paths {
            [] => Selected::None,
            [one] => Selected::One(one.clone()),
            many => Selected::Many(many.to_vec()),
        }
    }
}
