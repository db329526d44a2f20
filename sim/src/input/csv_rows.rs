//! Typed access to the rows of a CSV file with a header, for the trace and fleet readers.
//!
//! Every failure names the file, the line, the column and what was expected, so a user with a
//! broken trace can fix it without reading our code.

use crate::error::InputError;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Opens `path` for a reader, naming the file in the error.
pub fn open(path: &Path) -> Result<std::io::BufReader<std::fs::File>, InputError> {
    std::fs::File::open(path)
        .map(std::io::BufReader::new)
        .map_err(|source| InputError::Io {
            file: path.to_owned(),
            source,
        })
}

/// A CSV source whose header has been checked for the columns a format needs.
pub struct CsvTable<R: std::io::Read> {
    file: PathBuf,
    reader: csv::Reader<R>,
    header: Vec<String>,
    /// The header is the format's published one, not a line of the file ([`CsvTable::headless`]).
    headless: bool,
}

/// What a reader does with a header column its format does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    /// An error: flexsim's own formats, where an unknown column can only be a mistake.
    Refuse,
    /// A warning: published formats, which carry columns flexsim does not use.
    Warn,
}

/// The names seen so far in a file, for [`Row::unique_name`]: one string holding them all and
/// a table keyed by their hashes, instead of an allocation per name — a trace of 10^6 jobs
/// would otherwise leave tens of MB of small freed blocks in the heap. Exact: names whose
/// hashes collide are compared.
#[derive(Debug, Default)]
pub struct NameSet {
    text: String,
    /// Where each name ends in `text`, in insertion order.
    ends: Vec<usize>,
    /// Hash of a name → index of the first name with that hash. A fixed-seed fast hash
    /// (foldhash): a name's hash is only a shortcut, equal names are compared.
    first: std::collections::HashMap<u64, usize, foldhash::fast::FixedState>,
    /// Indices of the later names whose hash was already taken (rare).
    collided: Vec<usize>,
}

impl NameSet {
    fn name(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// Adds `name`; false if it was there already.
    pub fn insert(&mut self, name: &str) -> bool {
        use std::hash::BuildHasher;
        let hash = foldhash::fast::FixedState::default().hash_one(name);
        let index = self.ends.len();
        match self.first.entry(hash) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(index);
            }
            std::collections::hash_map::Entry::Occupied(e) => {
                let first = *e.get();
                if self.name(first) == name || self.collided.iter().any(|&i| self.name(i) == name) {
                    return false;
                }
                self.collided.push(index);
            }
        }
        self.text.push_str(name);
        self.ends.push(self.text.len());
        true
    }
}

/// One data row, with the file and line it came from.
pub struct Row<'t> {
    file: &'t Path,
    header: &'t [String],
    record: csv::StringRecord,
    line: u64,
}

impl<R: std::io::Read> CsvTable<R> {
    pub fn new(file: &Path, source: R) -> Result<Self, InputError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::Headers)
            .from_reader(source);
        let header = reader
            .headers()
            .map_err(|e| csv_error(file, &e))?
            .iter()
            .map(str::to_owned)
            .collect::<Vec<String>>();
        for (i, h) in header.iter().enumerate() {
            if let Some(j) = header[i + 1..].iter().position(|o| o == h) {
                return Err(InputError::Row {
                    file: file.to_owned(),
                    line: 1,
                    message: format!(
                        "column {h:?} appears twice in the header (fields {} and {}); which one \
                         to read is ambiguous",
                        i + 1,
                        i + j + 2
                    ),
                });
            }
        }
        Ok(CsvTable {
            file: file.to_owned(),
            reader,
            header,
            headless: false,
        })
    }

    /// A CSV source with no header line, whose columns are `columns`: formats whose header is
    /// published apart from the data (Alibaba PAI 2020 ships `pai_task_table.header` beside
    /// `pai_task_table.csv`). Line numbers are the file's own (the first row is line 1); a row
    /// with another number of fields than `columns` is an error naming the published columns.
    pub fn headless(file: &Path, columns: &[&str], source: R) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::Headers)
            .from_reader(source);
        CsvTable {
            file: file.to_owned(),
            reader,
            header: columns.iter().map(|c| (*c).to_owned()).collect(),
            headless: true,
        }
    }

    /// The position of `name` in the header, or an error listing the header.
    pub fn column(&self, name: &str) -> Result<usize, InputError> {
        self.optional_column(name)
            .ok_or_else(|| InputError::MissingColumn {
                file: self.file.clone(),
                column: name.to_owned(),
                header: self.header.join(","),
            })
    }

    pub fn optional_column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Checks the header against `known`, the columns of `format`. With [`Extra::Refuse`]
    /// (flexsim's own formats) a column outside `known` is an error; with [`Extra::Warn`] (a
    /// published format, which may grow columns flexsim does not read) it is one warning, pushed
    /// onto `warnings`. Either way every unknown column is named, with "did you mean" (a
    /// misspelt optional column would otherwise silently be absent).
    pub fn check_columns(
        &self,
        format: &str,
        known: &[&str],
        extra: Extra,
        warnings: &mut Vec<String>,
    ) -> Result<(), InputError> {
        let unknown: Vec<String> = self
            .header
            .iter()
            .filter(|h| !known.contains(&h.as_str()))
            .cloned()
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let plural = if unknown.len() > 1 { "s" } else { "" };
        let listed = crate::input::names::quoted_with_suggestions(&unknown, known);
        let known = known.join(", ");
        let file = self.file.display();
        match extra {
            Extra::Refuse => Err(InputError::Row {
                file: self.file.clone(),
                line: 1,
                message: format!(
                    "unknown column{plural} {listed}; the {format} format's columns are: {known}"
                ),
            }),
            Extra::Warn => {
                warnings.push(format!(
                    "{file}:1: ignoring column{plural} the {format} format does not have: \
                     {listed} (its columns: {known})"
                ));
                Ok(())
            }
        }
    }

    /// The error for the unknown values `unknowns` of column `col`, if any; `expected`
    /// describes the known ones, `known` gives the suggestions.
    pub fn unknown_values<S: AsRef<str>>(
        &self,
        col: usize,
        unknowns: &crate::input::names::Unknowns,
        expected: &str,
        known: &[S],
    ) -> Result<(), InputError> {
        match unknowns.report(known) {
            None => Ok(()),
            Some((got, line, rest)) => Err(InputError::Unknown {
                file: self.file.clone(),
                line,
                column: self.header.get(col).cloned().unwrap_or_default(),
                expected: expected.to_owned(),
                got: format!("\"{got}\"{rest}"),
            }),
        }
    }

    /// Calls `f` on every data row in file order.
    pub fn for_each_row(
        &mut self,
        mut f: impl FnMut(&Row<'_>) -> Result<(), InputError>,
    ) -> Result<(), InputError> {
        let mut record = csv::StringRecord::new();
        loop {
            match self.reader.read_record(&mut record) {
                Ok(false) => return Ok(()),
                Ok(true) => {
                    let line = record.position().map_or(0, |p| p.line());
                    if self.headless && record.len() != self.header.len() {
                        return Err(InputError::Row {
                            file: self.file.clone(),
                            line,
                            message: format!(
                                "expected {} fields ({}), got {}",
                                self.header.len(),
                                self.header.join(","),
                                record.len()
                            ),
                        });
                    }
                    let row = Row {
                        file: &self.file,
                        header: &self.header,
                        record: std::mem::take(&mut record),
                        line,
                    };
                    f(&row)?;
                    record = row.record;
                }
                Err(e) => return Err(csv_error(&self.file, &e)),
            }
        }
    }
}

impl Row<'_> {
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The text of column `col` without surrounding whitespace ("" when the row is short).
    /// Trimmed here, on the fields a reader asks for, rather than by the csv reader on every
    /// field of every record (which copies the record: a tenth of reading a trace).
    pub fn text(&self, col: usize) -> &str {
        self.record.get(col).unwrap_or("").trim()
    }

    /// Parses column `col`, describing the expected form as `expected` on failure.
    pub fn parse<T: FromStr>(&self, col: usize, expected: &str) -> Result<T, InputError> {
        let text = self.text(col);
        text.parse().map_err(|_| self.error(col, expected))
    }

    /// A non-negative decimal in column `col` times `factor`, rounded to an integer (vCPUs to
    /// milli-CPU, GB to MiB, seconds to ms). Beyond 2^53 the rounding is no longer exact, so
    /// that is refused as out of range, as are negative numbers, NaN and infinities.
    pub fn scaled(&self, col: usize, factor: f64, expected: &str) -> Result<u64, InputError> {
        let x: f64 = self.parse(col, expected)?;
        let v = (x * factor).round();
        if !(0.0..=9.007_199_254_740_992e15).contains(&v) {
            return Err(self.error(col, expected));
        }
        Ok(v as u64)
    }

    /// Parses an optional column: empty text or an absent column gives `None`.
    pub fn parse_opt<T: FromStr>(
        &self,
        col: Option<usize>,
        expected: &str,
    ) -> Result<Option<T>, InputError> {
        match col {
            Some(c) if !self.text(c).is_empty() => self.parse(c, expected).map(Some),
            _ => Ok(None),
        }
    }

    /// The non-empty name in column `col`, not seen on an earlier line (`seen` remembers);
    /// `what` names it in errors ("a pod name").
    pub fn unique_name(
        &self,
        col: usize,
        seen: &mut NameSet,
        what: &str,
    ) -> Result<String, InputError> {
        let name = self.text(col);
        if name.is_empty() {
            return Err(self.error(col, what));
        }
        if !seen.insert(name) {
            return Err(self.error(col, &format!("{what} not used on an earlier line")));
        }
        Ok(name.to_owned())
    }

    /// An error about column `col` of this row.
    pub fn error(&self, col: usize, expected: &str) -> InputError {
        InputError::Field {
            file: self.file.to_owned(),
            line: self.line,
            column: self.header.get(col).cloned().unwrap_or_default(),
            expected: expected.to_owned(),
            got: self.text(col).to_owned(),
        }
    }

    /// A whole-row problem at this row.
    pub fn invalid(&self, message: String) -> InputError {
        InputError::Row {
            file: self.file.to_owned(),
            line: self.line,
            message,
        }
    }
}

fn csv_error(file: &Path, e: &csv::Error) -> InputError {
    let line = e.position().map_or(0, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields like the header, got {len}"),
        csv::ErrorKind::Io(io) => io.to_string(),
        csv::ErrorKind::Utf8 { .. } => "row is not valid UTF-8".to_owned(),
        _ => e.to_string(),
    };
    InputError::Row {
        file: file.to_owned(),
        line,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::NameSet;

    #[test]
    fn name_set_is_exact() {
        let mut s = NameSet::default();
        assert!(s.insert("job-1"));
        assert!(s.insert("job-10"));
        assert!(s.insert(""));
        assert!(!s.insert("job-1"));
        assert!(!s.insert("job-10"));
        assert!(!s.insert(""));
        assert!(s.insert("job-"));
        assert_eq!(
            (s.name(0), s.name(1), s.name(2), s.name(3)),
            ("job-1", "job-10", "", "job-")
        );
    }
}
