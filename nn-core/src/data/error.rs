use std::path::PathBuf;

/// Why a data file could not be read. Every variant names the file and where in it.
///
/// ```
/// let error = nn::data::read_idx_labels("no/such/file").unwrap_err();
/// assert!(error.to_string().starts_with("no/such/file"), "{error}");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The operating system refused to read the file, or its gzip stream is broken.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An IDX file does not start with the magic number of the expected kind.
    #[error("{}: wrong magic number {found:#010x} at offset 0; an IDX {kind} file starts with {expected:#010x}", path.display())]
    WrongMagic {
        /// The file.
        path: PathBuf,
        /// What the file was read as ("images" or "labels").
        kind: &'static str,
        /// The magic that was expected.
        expected: u32,
        /// The magic that was found.
        found: u32,
    },
    /// An IDX file ends before the data its header announces.
    #[error("{}: truncated: the header announces {expected} bytes of data after offset {offset}, but only {found} follow", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The offset where the data starts.
        offset: u64,
        /// The number of data bytes announced.
        expected: u64,
        /// The number of data bytes present.
        found: u64,
    },
    /// An IDX file has bytes after the data its header announces.
    #[error("{}: unexpected data after offset {offset}, where the data announced by the header ends", path.display())]
    TrailingData {
        /// The file.
        path: PathBuf,
        /// The offset where the data should have ended.
        offset: u64,
    },
    /// Images do not have the expected size.
    #[error("{}: images are {rows}x{columns}, expected 28x28", path.display())]
    WrongImageSize {
        /// The file.
        path: PathBuf,
        /// Rows per image.
        rows: u32,
        /// Columns per image.
        columns: u32,
    },
    /// The images and the labels files hold different numbers of samples.
    #[error("{} holds {images} images but {} holds {labels} labels", images_path.display(), labels_path.display())]
    CountMismatch {
        /// The images file.
        images_path: PathBuf,
        /// Its count.
        images: usize,
        /// The labels file.
        labels_path: PathBuf,
        /// Its count.
        labels: usize,
    },
    /// A CSV file could not be parsed as CSV.
    #[error("{}: {source}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: csv::Error,
    },
    /// A CSV field is not valid UTF-8 text.
    #[error("{}: line {line}, column {column}: not valid UTF-8 text", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: u64,
        /// The column, from 1.
        column: usize,
    },
    /// A CSV header or record has the wrong number of columns.
    #[error("{}: line {line}: {found} columns, expected {expected} ({layout})", path.display())]
    WrongColumnCount {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// The number of columns expected.
        expected: usize,
        /// The number of columns found.
        found: usize,
        /// The expected layout, in words.
        layout: &'static str,
    },
    /// A CSV header is not the Kaggle digit-recognizer header.
    #[error("{}: line 1: the header starts with `{found}`, expected `{expected}`", path.display())]
    WrongHeader {
        /// The file.
        path: PathBuf,
        /// The first column name expected.
        expected: &'static str,
        /// The first column name found.
        found: String,
    },
    /// A CSV field that should hold a value is empty.
    #[error("{}: line {line}, column {column} (`{name}`): the value is missing", path.display())]
    MissingValue {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// The 1-based column number.
        column: usize,
        /// The column's name from the header (`column 3` without one).
        name: String,
    },
    /// A CSV feature is not a finite number.
    #[error("{}: line {line}, column {column} (`{name}`): `{value}` is not a finite number", path.display())]
    NotANumber {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// The 1-based column number.
        column: usize,
        /// The column's name from the header.
        name: String,
        /// The field as found.
        value: String,
    },
    /// A column asked for is not in the file.
    #[error("{}: line 1: no column {column} among its {columns} columns", path.display())]
    UnknownColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for: `` `name` `` or `#index`.
        column: String,
        /// The columns the file has.
        columns: usize,
    },
    /// A CSV field is not an integer.
    #[error("{}: line {line}, column {column} (`{name}`): `{value}` is not an integer", path.display())]
    NotAnInteger {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// The 1-based column number.
        column: usize,
        /// The column's name from the header.
        name: String,
        /// The field as found.
        value: String,
    },
    /// A value is outside its allowed range.
    #[error("{}: {location}: {what} {value} is outside {range}", path.display())]
    OutOfRange {
        /// The file.
        path: PathBuf,
        /// Where: `line 5, column 3 (pixel1)` or `offset 8`.
        location: String,
        /// `pixel` or `label`.
        what: &'static str,
        /// The value found.
        value: i64,
        /// The allowed range, like `0..=255`.
        range: &'static str,
    },
    /// A header announces more than the [limits](super::Limits) allow: checked before anything
    /// is allocated for it.
    #[error(
        "{}: the header announces {announced}, more than {limit} bytes ({})",
        path.display(),
        super::limits::limit_hint(setting)
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// What the header announces: a byte count, or the dimensions whose product overflows.
        announced: String,
        /// The limit crossed, in bytes.
        limit: u64,
        /// Its field of [`Limits`](super::Limits): `idx_bytes`, `dataset_bytes`.
        setting: &'static str,
    },
    /// A file has no samples at all.
    #[error("{}: the file holds no samples", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A directory does not hold the files of a data set.
    #[error("{}: no {wanted} here (looked for {candidates})", directory.display())]
    MissingFile {
        /// The directory searched.
        directory: PathBuf,
        /// What was looked for.
        wanted: &'static str,
        /// The file names tried.
        candidates: String,
    },
}
