//! The set of names a generated model has given out, to refuse a repeat where it is made.
//!
//! The set stores indices, not names: the names live once, in the columns and rows, and the
//! table hashes them in place. A conv net's model has about a million names; a `HashSet` of
//! copies cost an allocation and a SipHash per name, a tenth of the whole compile.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// Indices of named items (columns, or rows and indicators) in one namespace.
#[derive(Clone, Debug, Default)]
pub(super) struct NameIndex {
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl NameIndex {
    /// Claims `name` for item `index`, where `name_of` gives the name of any item claimed
    /// before. Returns false (and claims nothing) when the name is taken.
    pub(super) fn claim<'a>(&mut self, name: &str, index: u32, name_of: impl Fn(u32) -> &'a str) -> bool {
        let hasher = &self.hasher;
        let hash = hasher.hash_one(name);
        match self
            .table
            .entry(hash, |&i| name_of(i) == name, |&i| hasher.hash_one(name_of(i)))
        {
            hashbrown::hash_table::Entry::Occupied(_) => false,
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(index);
                true
            }
        }
    }

    /// Makes room for `additional` more names without growing on the way (a growth hashes
    /// every name claimed so far again).
    pub(super) fn reserve<'a>(&mut self, additional: usize, name_of: impl Fn(u32) -> &'a str) {
        let hasher = &self.hasher;
        self.table.reserve(additional, |&i| hasher.hash_one(name_of(i)));
    }

    /// Forgets every item for which `drop` holds.
    pub(super) fn forget(&mut self, drop: impl Fn(u32) -> bool) {
        self.table.retain(|&mut i| !drop(i));
    }
}
