//! The Kaggle digit-recognizer CSV files: `train.csv` with the header
//! `label,pixel0,...,pixel783`, `test.csv` with `pixel0,...,pixel783`; one digit per line,
//! pixels 0-255. Either may be gzip-compressed.

use super::mnist::Digits;
use super::mnist::{CLASSES, PIXELS};
use super::source::{open, BoundedText};
use super::DataError;
use std::path::Path;

/// Reads a Kaggle `train.csv` (label first, then 784 pixels), scaling pixels to `[0, 1]`.
///
/// ```no_run
/// let train = nn::data::read_kaggle_train("digit-recognizer/train.csv")?;
/// println!("{} labelled digits", train.len());
/// # Ok::<(), nn::data::DataError>(())
/// ```
pub fn read_kaggle_train(path: impl AsRef<Path>) -> Result<Digits, DataError> {
    let mut dataset = Digits::default();
    read_csv(path.as_ref(), true, |label, image| {
        dataset.targets.push(label.expect("the train layout has a label"));
        dataset.inputs.push(image);
    })?;
    Ok(dataset)
}

/// Reads a Kaggle `test.csv` (784 pixels, no label), scaling pixels to `[0, 1]`.
///
/// ```no_run
/// let images = nn::data::read_kaggle_test("digit-recognizer/test.csv")?;
/// println!("{} digits to classify", images.len());
/// # Ok::<(), nn::data::DataError>(())
/// ```
pub fn read_kaggle_test(path: impl AsRef<Path>) -> Result<Vec<[f32; PIXELS]>, DataError> {
    let mut images = Vec::new();
    read_csv(path.as_ref(), false, |_, image| images.push(image))?;
    Ok(images)
}

/// Writes a Kaggle digit-recognizer submission: the header `ImageId,Label`, then one line per
/// test image in the order of `test.csv`, ids from 1. Written atomically (a temporary file
/// renamed over `path`), so an interrupted run leaves the previous submission whole.
///
/// ```
/// let path = std::env::temp_dir().join(format!("submission-{}.csv", std::process::id()));
/// nn::data::write_kaggle_submission(&path, &[7, 2, 1])?;
/// assert_eq!(std::fs::read_to_string(&path)?, "ImageId,Label\n1,7\n2,2\n3,1\n");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`DataError::OutOfRange`] for a prediction that is not a digit (it names the image), and
/// [`DataError::Io`] if the file cannot be written.
pub fn write_kaggle_submission(path: impl AsRef<Path>, predictions: &[usize]) -> Result<(), DataError> {
    let path = path.as_ref();
    let mut text = String::with_capacity(14 + predictions.len() * 8);
    text.push_str("ImageId,Label\n");
    for (index, &digit) in predictions.iter().enumerate() {
        if digit >= CLASSES {
            return Err(DataError::OutOfRange {
                path: path.to_owned(),
                location: format!("line {}, column 2 (Label of ImageId {})", index + 2, index + 1),
                what: "prediction",
                value: i64::try_from(digit).unwrap_or(i64::MAX),
                range: "0..=9",
            });
        }
        text.push_str(&format!("{},{digit}\n", index + 1));
    }
    crate::io::write_atomically(path, text.as_bytes()).map_err(|source| DataError::Io { path: path.to_owned(), source })
}

/// A csv crate error as a [`DataError`] about `path`.
pub(super) fn csv_error(path: &Path, source: csv::Error) -> DataError {
    match source.kind() {
        // The csv crate counts fields from 0; every other message here counts columns from 1.
        csv::ErrorKind::Utf8 { pos, err } => DataError::NotUtf8 {
            path: path.to_owned(),
            line: pos.as_ref().map_or(0, csv::Position::line),
            column: err.field() + 1,
        },
        _ => DataError::Csv { path: path.to_owned(), source },
    }
}

fn read_csv(path: &Path, labelled: bool, mut sample: impl FnMut(Option<u8>, [f32; PIXELS])) -> Result<(), DataError> {
    let csv_error = |source: csv::Error| csv_error(path, source);
    let (columns, layout, first) = if labelled {
        (PIXELS + 1, "label,pixel0,...,pixel783", "label")
    } else {
        (PIXELS, "pixel0,...,pixel783", "pixel0")
    };
    let text = BoundedText::new(open(path)?);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text);
    let mut records = reader.records();
    let header = match records.next() {
        Some(header) => header.map_err(csv_error)?,
        None => return Err(DataError::Empty { path: path.to_owned() }),
    };
    let wrong_count =
        |line, found| DataError::WrongColumnCount { path: path.to_owned(), line, expected: columns, found, layout };
    if header.len() != columns {
        return Err(wrong_count(1, header.len()));
    }
    // A byte-order mark (which spreadsheet programs write) is not part of the first name.
    let first_name = header.get(0).map(|name| name.trim_start_matches('\u{feff}').trim());
    if first_name != Some(first) {
        let found = quoted(&header[0]);
        return Err(DataError::WrongHeader { path: path.to_owned(), expected: first, found });
    }
    let mut count = 0;
    for record in records {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, csv::Position::line);
        if record.len() != columns {
            return Err(wrong_count(line, record.len()));
        }
        let field = |column: usize, range: std::ops::RangeInclusive<i64>, what, range_text| {
            let text = record[column].trim();
            let location = || format!("line {line}, column {} ({})", column + 1, quoted(&header[column]));
            let value: i64 = text.parse().map_err(|_| DataError::NotAnInteger {
                path: path.to_owned(),
                line,
                column: column + 1,
                name: quoted(&header[column]),
                value: quoted(text),
            })?;
            if !range.contains(&value) {
                return Err(DataError::OutOfRange {
                    path: path.to_owned(),
                    location: location(),
                    what,
                    value,
                    range: range_text,
                });
            }
            Ok(value)
        };
        let label = if labelled { Some(field(0, 0..=(CLASSES as i64 - 1), "label", "0..=9")? as u8) } else { None };
        let offset = usize::from(labelled);
        let mut image = [0.0; PIXELS];
        for (index, pixel) in image.iter_mut().enumerate() {
            *pixel = field(index + offset, 0..=255, "pixel", "0..=255")? as f32 / 255.0;
        }
        sample(label, image);
        count += 1;
    }
    if count == 0 {
        return Err(DataError::Empty { path: path.to_owned() });
    }
    Ok(())
}

/// Characters of a field quoted in an error message: a field may be a megabyte long.
const QUOTED_CHARACTERS: usize = 40;

/// `field`, or its first [`QUOTED_CHARACTERS`] characters and an ellipsis.
pub(super) fn quoted(field: &str) -> String {
    match field.char_indices().nth(QUOTED_CHARACTERS) {
        Some((end, _)) => format!("{}...", &field[..end]),
        None => field.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn header(labelled: bool) -> String {
        let pixels: Vec<String> = (0..PIXELS).map(|i| format!("pixel{i}")).collect();
        if labelled {
            format!("label,{}", pixels.join(","))
        } else {
            pixels.join(",")
        }
    }

    fn row(label: Option<&str>, pixel: &str) -> String {
        let mut fields: Vec<&str> = label.into_iter().collect();
        fields.extend(std::iter::repeat_n(pixel, PIXELS));
        fields.join(",")
    }

    fn file(lines: &[String]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "{}", lines.join("\n")).unwrap();
        file
    }

    #[test]
    fn reads_train_rows_and_scales_pixels() {
        let file = file(&[header(true), row(Some("7"), "255"), row(Some("0"), "0")]);
        let data = read_kaggle_train(file.path()).unwrap();
        assert_eq!(data.targets, [7, 0]);
        assert_eq!(data.inputs[0], [1.0; PIXELS]);
        assert_eq!(data.inputs[1], [0.0; PIXELS]);
    }

    #[test]
    fn reads_test_rows_without_labels() {
        let file = file(&[header(false), row(None, "51")]);
        assert_eq!(read_kaggle_test(file.path()).unwrap(), vec![[0.2; PIXELS]]);
    }

    #[test]
    fn wrong_column_count_names_the_line() {
        let mut short = row(Some("1"), "0");
        short.truncate(short.len() - 2);
        let file = file(&[header(true), row(Some("1"), "0"), short]);
        let error = read_kaggle_train(file.path()).unwrap_err();
        assert!(matches!(error, DataError::WrongColumnCount { line: 3, expected: 785, found: 784, .. }), "{error:?}");
    }

    #[test]
    fn a_test_file_read_as_train_is_rejected_at_the_header() {
        let file = file(&[header(false), row(None, "0")]);
        let error = read_kaggle_train(file.path()).unwrap_err();
        assert!(matches!(error, DataError::WrongColumnCount { line: 1, .. }), "{error:?}");
    }

    #[test]
    fn non_integer_pixel_names_line_and_column() {
        let file = file(&[header(true), row(Some("1"), "0").replacen(",0", ",0.5", 1)]);
        let error = read_kaggle_train(file.path()).unwrap_err();
        assert!(matches!(error, DataError::NotAnInteger { line: 2, column: 2, .. }), "{error:?}");
        assert!(error.to_string().contains("line 2, column 2 (`pixel0`): `0.5` is not an integer"), "{error}");
    }

    #[test]
    fn a_long_field_is_quoted_short() {
        let file = file(&[header(true), row(Some("1"), "0").replacen(",0", &format!(",{}", "x".repeat(100_000)), 1)]);
        let message = read_kaggle_train(file.path()).unwrap_err().to_string();
        assert!(message.len() < 300 && message.contains(&format!("`{}...`", "x".repeat(40))), "{message}");
    }

    #[test]
    fn pixel_out_of_range() {
        let file = file(&[header(true), row(Some("1"), "256")]);
        let error = read_kaggle_train(file.path()).unwrap_err();
        assert!(error.to_string().contains("line 2, column 2 (pixel0): pixel 256 is outside 0..=255"), "{error}");
    }

    #[test]
    fn label_out_of_range() {
        let file = file(&[header(true), row(Some("10"), "0")]);
        let error = read_kaggle_train(file.path()).unwrap_err();
        assert!(error.to_string().contains("label 10 is outside 0..=9"), "{error}");
    }

    #[test]
    fn header_only_is_empty() {
        let file = file(&[header(true)]);
        assert!(matches!(read_kaggle_train(file.path()).unwrap_err(), DataError::Empty { .. }));
    }

    fn gzip(text: &str) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(text.as_bytes()).unwrap();
        encoder.finish().unwrap()
    }

    fn file_of(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    #[test]
    fn a_byte_order_mark_before_the_header_is_not_part_of_it() {
        let file = file(&[format!("\u{feff}{}", header(true)), row(Some("4"), "0")]);
        assert_eq!(read_kaggle_train(file.path()).unwrap().targets, [4]);
    }

    #[test]
    fn every_member_of_a_multi_member_gzip_file_is_read() {
        // As `cat a.gz b.gz` or pigz write it.
        let first = gzip(&format!("{}\n{}\n", header(true), row(Some("1"), "0")));
        let second = gzip(&format!("{}\n", row(Some("2"), "0")));
        let file = file_of(&[first, second].concat());
        assert_eq!(read_kaggle_train(file.path()).unwrap().targets, [1, 2]);
    }

    #[test]
    fn garbage_after_the_last_gzip_member_is_an_error() {
        let bytes = [gzip(&format!("{}\n{}\n", header(true), row(Some("1"), "0"))), b"not gzip".to_vec()].concat();
        let error = read_kaggle_train(file_of(&bytes).path()).unwrap_err();
        assert!(matches!(error, DataError::Csv { .. }), "{error:?}");
    }

    #[test]
    fn a_line_without_end_fails_at_the_limit_naming_it() {
        // A small gzip file that expands to 2 MB without a line break.
        let bytes = gzip(&"7".repeat(2 << 20));
        assert!(bytes.len() < 10_000);
        let error = read_kaggle_test(file_of(&bytes).path()).unwrap_err();
        assert!(
            error.to_string().ends_with(
                "line 1 is longer than 1048576 bytes (the limit `Limits::line_bytes`; raise it with \
                 `nn::data::set_limits`)"
            ),
            "{error}"
        );
    }

    #[test]
    fn invalid_utf8_names_the_column_from_1() {
        let mut line = row(Some("1"), "0").into_bytes();
        line[2] = 0xff; // the first pixel's field
        let bytes = [header(true).into_bytes(), b"\n".to_vec(), line, b"\n".to_vec()].concat();
        let file = file_of(&bytes);
        let error = read_kaggle_train(file.path()).unwrap_err();
        assert_eq!(error.to_string(), format!("{}: line 2, column 2: not valid UTF-8 text", file.path().display()));
    }

    #[test]
    fn gzip_is_detected_by_content() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        writeln!(encoder, "{}\n{}", header(true), row(Some("3"), "0")).unwrap();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&encoder.finish().unwrap()).unwrap();
        assert_eq!(read_kaggle_train(file.path()).unwrap().targets, [3]);
    }
}
