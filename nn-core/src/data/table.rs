//! Tabular data: samples of `IN` numeric features and a class each, read from a CSV file, split
//! (stratified on request) and folded.

use super::kaggle::{csv_error, quoted};
use super::source::{open, BoundedText};
use super::{DataError, Dataset};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::path::Path;

/// A column of a CSV file: by its header name, or by position from 0.
///
/// ```
/// use nn::data::Column;
/// let by_name: Column = "species".into();
/// assert_eq!(by_name, Column::Name("species".to_owned()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// The column with this header name (needs a header).
    Name(String),
    /// The column at this position, from 0.
    Index(usize),
}

impl From<&str> for Column {
    fn from(name: &str) -> Self {
        Column::Name(name.to_owned())
    }
}

impl From<usize> for Column {
    fn from(index: usize) -> Self {
        Column::Index(index)
    }
}

/// How to read samples from a CSV file: whether it has a header, its delimiter, which column is
/// the class and which are the features (by default every other column, in order).
///
/// ```
/// use nn::data::CsvOptions;
///
/// let options = CsvOptions::new("species").with_delimiter(b';');
/// assert!(options.header);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// Whether the first line names the columns.
    pub header: bool,
    /// The field delimiter.
    pub delimiter: u8,
    /// The target columns: the one class column of [`read_csv_classes`], or the value columns
    /// of [`read_csv_values`](super::read_csv_values), one per network output.
    pub targets: Vec<Column>,
    /// The feature columns, in the order of the input; `None` for every column but the target.
    pub features: Option<Vec<Column>>,
}

impl CsvOptions {
    /// A comma-separated file with a header, `target` the class (or value) column, every other
    /// column a feature.
    ///
    /// ```
    /// let options = nn::data::CsvOptions::new(4);
    /// assert_eq!(options.targets, [nn::data::Column::Index(4)]);
    /// ```
    pub fn new(target: impl Into<Column>) -> Self {
        Self { header: true, delimiter: b',', targets: vec![target.into()], features: None }
    }

    /// Several target columns, in the order of the network's outputs (for
    /// [`read_csv_values`](super::read_csv_values)).
    ///
    /// ```
    /// let options = nn::data::CsvOptions::new("x").with_targets(["y", "z"]);
    /// assert_eq!(options.targets.len(), 2);
    /// ```
    pub fn with_targets<C: Into<Column>>(self, targets: impl IntoIterator<Item = C>) -> Self {
        Self { targets: targets.into_iter().map(Into::into).collect(), ..self }
    }

    /// Without a header line (columns by index only).
    ///
    /// ```
    /// assert!(!nn::data::CsvOptions::new(0).without_header().header);
    /// ```
    pub fn without_header(self) -> Self {
        Self { header: false, ..self }
    }

    /// Another delimiter, such as `b';'` or `b'\t'`.
    ///
    /// ```
    /// assert_eq!(nn::data::CsvOptions::new(0).with_delimiter(b'\t').delimiter, b'\t');
    /// ```
    pub fn with_delimiter(self, delimiter: u8) -> Self {
        Self { delimiter, ..self }
    }

    /// These feature columns, in this order.
    ///
    /// ```
    /// let options = nn::data::CsvOptions::new("y").with_features(["a", "c"]);
    /// assert_eq!(options.features.unwrap().len(), 2);
    /// ```
    pub fn with_features<C: Into<Column>>(self, features: impl IntoIterator<Item = C>) -> Self {
        Self { features: Some(features.into_iter().map(Into::into).collect()), ..self }
    }
}

/// Samples with `IN` features and a class each (an index into `classes`, the classes' names):
/// what [`read_csv_classes`] returns.
///
/// ```
/// let table = nn::data::Table::<2> {
///     inputs: vec![[0.1, 0.2], [0.3, 0.4]],
///     targets: vec![0, 1],
///     classes: vec!["cat".into(), "dog".into()],
/// };
/// assert_eq!(table.one_hot_targets::<2>()[1], [0.0, 1.0]);
/// ```
pub type Table<const IN: usize> = Dataset<IN, usize>;

/// Indices of a seeded split of samples with these `labels`: (kept, held out), the held-out
/// part `fraction` of the samples (rounded); with `stratified`, of each class.
///
/// ```
/// let (kept, held_out) = nn::data::split_indices(&[0, 0, 1, 1], 0.5, 1, true);
/// assert_eq!((kept.len(), held_out.len()), (2, 2));
/// ```
pub fn split_indices(labels: &[usize], fraction: f32, seed: u64, stratified: bool) -> (Vec<usize>, Vec<usize>) {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    let fraction = f64::from(fraction.clamp(0.0, 1.0));
    let groups: Vec<Vec<usize>> = if stratified {
        // Grouped by the labels present, in their order: a label of a billion makes one group,
        // not a billion.
        let mut classes = std::collections::BTreeMap::<usize, Vec<usize>>::new();
        for (index, &label) in labels.iter().enumerate() {
            classes.entry(label).or_default().push(index);
        }
        classes.into_values().collect()
    } else {
        vec![(0..labels.len()).collect()]
    };
    let (mut kept, mut held_out) = (Vec::new(), Vec::new());
    for mut group in groups {
        group.shuffle(&mut rng);
        let held = (group.len() as f64 * fraction).round() as usize;
        held_out.extend_from_slice(&group[..held]);
        kept.extend_from_slice(&group[held..]);
    }
    kept.shuffle(&mut rng);
    held_out.shuffle(&mut rng);
    (kept, held_out)
}

/// `k` seeded folds of `count` samples for cross-validation: for each, (training indices,
/// validation indices); every sample is validated on exactly once, the folds' sizes differ by
/// at most one.
///
/// ```
/// let folds = nn::data::k_fold(10, 3, 0);
/// assert_eq!(folds.len(), 3);
/// assert_eq!(folds.iter().map(|(_, validation)| validation.len()).sum::<usize>(), 10);
/// ```
pub fn k_fold(count: usize, k: usize, seed: u64) -> Vec<(Vec<usize>, Vec<usize>)> {
    let mut order: Vec<usize> = (0..count).collect();
    order.shuffle(&mut rand_pcg::Pcg64Mcg::seed_from_u64(seed));
    let k = k.clamp(1, count.max(1));
    (0..k)
        .map(|fold| {
            let (start, end) = (fold * count / k, (fold + 1) * count / k);
            let validation = order[start..end].to_vec();
            let train = order[..start].iter().chain(&order[end..]).copied().collect();
            (train, validation)
        })
        .collect()
}

/// Reads samples of `IN` numeric features and a class from a CSV file (raw or `.gz`), as
/// `options` says. Class labels may be names (`setosa`: the classes are the names, sorted) or
/// integers from 0 to 65,535 (class `n` is `n`). Every error names the file, the line and the
/// column: a missing value, a feature that is not a number, a row of another width, a column
/// name the header lacks, or a feature count other than `IN`.
///
/// ```
/// use nn::data::{read_csv_classes, CsvOptions};
///
/// let path = std::env::temp_dir().join(format!("flowers-{}.csv", std::process::id()));
/// std::fs::write(&path, "length,width,kind\n1.5,0.2,small\n4.7,1.4,large\n1.3,0.3,small\n")?;
/// let table = read_csv_classes::<2>(&path, &CsvOptions::new("kind"))?;
/// assert_eq!(table.classes, ["large", "small"]);
/// assert_eq!((table.inputs[1], table.targets[1]), ([4.7, 1.4], 0));
///
/// std::fs::write(&path, "length,width,kind\n1.5,,small\n")?;
/// let error = read_csv_classes::<2>(&path, &CsvOptions::new("kind")).unwrap_err();
/// assert!(error.to_string().ends_with("line 2, column 2 (`width`): the value is missing"), "{error}");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`DataError::MissingValue`], [`DataError::NotANumber`], [`DataError::WrongColumnCount`],
/// [`DataError::UnknownColumn`], [`DataError::Empty`], and the reader's I/O and CSV errors.
pub fn read_csv_classes<const IN: usize>(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Table<IN>, DataError> {
    let path = path.as_ref();
    let (mut inputs, mut raw_labels) = (Vec::new(), Vec::new());
    let shape = Shape { features: IN, targets: 1, what: "class columns: read_csv_classes takes one" };
    let targets = read_rows(path, options, shape, |layout, record, line| {
        let input = layout.features::<IN>(record, line)?;
        let target = layout.targets[0];
        let label = record[target].trim();
        if label.is_empty() {
            return Err(layout.missing(line, target));
        }
        inputs.push(input);
        raw_labels.push((label.to_owned(), line));
        Ok(())
    })?;
    let (labels, classes) = encode_classes(path, &targets[0], &raw_labels)?;
    Ok(Table { inputs, targets: labels, classes })
}

/// How many feature and target columns a reader needs, and what to call the targets in an error.
pub(super) struct Shape {
    pub(super) features: usize,
    pub(super) targets: usize,
    pub(super) what: &'static str,
}

/// Reads the CSV file at `path` as `options` says, checks its columns against `shape`, and
/// hands each data row (with its line) to `row`; returns each target column's position and
/// name, or the first error. The file must hold at least one row.
pub(super) fn read_rows(
    path: &Path,
    options: &CsvOptions,
    shape: Shape,
    mut row: impl FnMut(&Layout<'_>, &csv::StringRecord, u64) -> Result<(), DataError>,
) -> Result<Vec<(usize, String)>, DataError> {
    let text = BoundedText::new(open(path)?);
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(options.delimiter).from_reader(text);
    let mut records = reader.records().peekable();
    let names: Vec<String> = match (options.header, records.peek()) {
        (_, None) => return Err(DataError::Empty { path: path.to_owned() }),
        (true, Some(_)) => {
            let header = records.next().expect("peeked").map_err(|error| csv_error(path, error))?;
            header.iter().map(|name| name.trim_start_matches('\u{feff}').trim().to_owned()).collect()
        }
        (false, Some(Ok(first))) => (0..first.len()).map(|index| format!("column {}", index + 1)).collect(),
        (false, Some(Err(_))) => {
            return Err(csv_error(path, records.next().expect("peeked").expect_err("an error")));
        }
    };
    let layout = Layout::new(path, &names, options, &shape)?;
    let mut rows = 0;
    for record in records {
        let record = record.map_err(|error| csv_error(path, error))?;
        let line = record.position().map_or(0, csv::Position::line);
        if record.len() != names.len() {
            return Err(DataError::WrongColumnCount {
                path: path.to_owned(),
                line,
                expected: names.len(),
                found: record.len(),
                layout: "as many columns as the first line",
            });
        }
        row(&layout, &record, line)?;
        rows += 1;
    }
    if rows == 0 {
        return Err(DataError::Empty { path: path.to_owned() });
    }
    Ok(layout.targets.iter().map(|&column| (column, quoted(&names[column]))).collect())
}

/// The most classes integer labels may name (labels `0..=65535`): a class index is an output of
/// the network, and a label of a billion in a hostile or mistaken file would otherwise make a
/// billion class names.
const MAX_INTEGER_CLASSES: usize = 1 << 16;

/// Labels as class indices: integers stand for themselves (up to [`MAX_INTEGER_CLASSES`]),
/// names are numbered in sorted order. `raw` holds each label with its line; `(column, name)`
/// is the class column, for the error.
fn encode_classes(
    path: &Path,
    (column, name): &(usize, String),
    raw: &[(String, u64)],
) -> Result<(Vec<usize>, Vec<String>), DataError> {
    let integers: Option<Vec<usize>> = raw.iter().map(|(label, _)| label.parse().ok()).collect();
    if let Some(integers) = integers {
        if let Some(at) = integers.iter().position(|&label| label >= MAX_INTEGER_CLASSES) {
            return Err(DataError::OutOfRange {
                path: path.to_owned(),
                location: format!("line {}, column {} (`{name}`)", raw[at].1, column + 1),
                what: "integer class label",
                value: i64::try_from(integers[at]).unwrap_or(i64::MAX),
                range: "0..=65535 (name the classes instead)",
            });
        }
        let classes = integers.iter().max().map_or(0, |&most| most + 1);
        return Ok((integers, (0..classes).map(|class| class.to_string()).collect()));
    }
    let mut classes: Vec<String> = raw.iter().map(|(label, _)| label.clone()).collect();
    classes.sort();
    classes.dedup();
    let labels = raw.iter().map(|(label, _)| classes.binary_search(label).expect("every label is a class")).collect();
    Ok((labels, classes))
}

/// Which columns hold what, resolved against the header.
pub(super) struct Layout<'a> {
    path: &'a Path,
    names: &'a [String],
    pub(super) targets: Vec<usize>,
    features: Vec<usize>,
}

impl<'a> Layout<'a> {
    fn new(path: &'a Path, names: &'a [String], options: &CsvOptions, shape: &Shape) -> Result<Self, DataError> {
        let resolve = |column: &Column| match column {
            Column::Index(index) if *index < names.len() => Ok(*index),
            Column::Name(name) => {
                names.iter().position(|found| found == name).ok_or_else(|| DataError::UnknownColumn {
                    path: path.to_owned(),
                    column: format!("`{}`", quoted(name)),
                    columns: names.len(),
                })
            }
            Column::Index(index) => Err(DataError::UnknownColumn {
                path: path.to_owned(),
                column: format!("#{index}"),
                columns: names.len(),
            }),
        };
        let targets = options.targets.iter().map(resolve).collect::<Result<Vec<_>, _>>()?;
        let features = match &options.features {
            Some(features) => features.iter().map(resolve).collect::<Result<Vec<_>, _>>()?,
            None => (0..names.len()).filter(|column| !targets.contains(column)).collect(),
        };
        let count_error = |expected, found, layout| DataError::WrongColumnCount {
            path: path.to_owned(),
            line: 1,
            expected,
            found,
            layout,
        };
        if targets.len() != shape.targets {
            return Err(count_error(shape.targets, targets.len(), shape.what));
        }
        if features.len() != shape.features {
            return Err(count_error(shape.features, features.len(), "feature columns, one per network input"));
        }
        Ok(Self { path, names, targets, features })
    }

    /// The feature columns of `record` (from `line`) as numbers.
    pub(super) fn features<const IN: usize>(
        &self,
        record: &csv::StringRecord,
        line: u64,
    ) -> Result<[f32; IN], DataError> {
        let mut input = [0.0; IN];
        for (value, &column) in input.iter_mut().zip(&self.features) {
            *value = self.number(&record[column], line, column)?;
        }
        Ok(input)
    }

    /// The field at `column` of `line` as a finite number.
    pub(super) fn number(&self, field: &str, line: u64, column: usize) -> Result<f32, DataError> {
        let field = field.trim();
        if field.is_empty() {
            return Err(self.missing(line, column));
        }
        match field.parse::<f32>() {
            Ok(value) if value.is_finite() => Ok(value),
            _ => Err(DataError::NotANumber {
                path: self.path.to_owned(),
                line,
                column: column + 1,
                name: quoted(&self.names[column]),
                value: quoted(field),
            }),
        }
    }

    pub(super) fn missing(&self, line: u64, column: usize) -> DataError {
        DataError::MissingValue {
            path: self.path.to_owned(),
            line,
            column: column + 1,
            name: quoted(&self.names[column]),
        }
    }
}
