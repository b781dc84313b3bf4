//! String interning: every distinct dimension value, metric name and label is stored once and
//! referred to by a small id.

use foldhash::fast::RandomState;
use hashbrown::HashMap;

/// Distinct strings and their ids (`0..len`, in order of first appearance). Id 0 is `""`.
///
/// Hashing uses foldhash, which is fast but not DoS-resistant: acceptable here because a batch
/// job's only cost of a crafted collision flood is time, not correctness.
#[derive(Clone, Debug)]
pub(crate) struct Interner {
    ids: HashMap<Box<str>, u32, RandomState>,
    names: Vec<Box<str>>,
}

impl Default for Interner {
    fn default() -> Self {
        let mut interner = Interner {
            ids: HashMap::default(),
            names: Vec::new(),
        };
        // Cannot fail: the table is empty.
        let _ = interner.intern("");
        interner
    }
}

impl Interner {
    /// The id of `s`, adding it when new; `None` only when 2^32 strings exist already.
    pub(crate) fn intern(&mut self, s: &str) -> Option<u32> {
        if let Some(&id) = self.ids.get(s) {
            return Some(id);
        }
        let id = u32::try_from(self.names.len()).ok()?;
        self.names.push(s.into());
        self.ids.insert(s.into(), id);
        Some(id)
    }

    /// The id of `s` if it is known.
    pub(crate) fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    /// The string of `id` (`""` for an unknown id, which no caller produces).
    pub(crate) fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |s| s)
    }

    /// Number of strings.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// Every string, by id.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|s| &**s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_empty_is_zero() {
        let mut i = Interner::default();
        assert_eq!(i.get(""), Some(0));
        let a = i.intern("GC_MS").unwrap();
        assert_eq!(i.intern("GC_MS"), Some(a));
        assert_ne!(i.intern("gc_ms"), Some(a));
        assert_eq!(i.name(a), "GC_MS");
        assert_eq!(i.len(), 3);
        assert_eq!(i.names().collect::<Vec<_>>(), vec!["", "GC_MS", "gc_ms"]);
    }
}
