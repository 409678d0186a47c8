//! How much memory a data file can make a reader take: bounds checked before allocating and
//! while reading, set once for the process.

use std::sync::RwLock;

/// The bounds every data reader keeps to, whatever a file says: a hostile or corrupt file (a
/// decompression bomb, a header announcing terabytes, `/dev/zero` given as a path) is an error
/// naming the limit it crossed, never gigabytes of memory or an aborted process.
///
/// The defaults leave room for the largest real data sets these readers are for (EMNIST's
/// 698,000 images of 28x28 as floats take 2.2 GB); [`set_limits`] raises or lowers them for
/// the whole process.
///
/// ```
/// use nn::data::{limits, set_limits, Limits};
///
/// assert_eq!(limits(), Limits::DEFAULT);
/// set_limits(Limits { text_bytes: 2 << 30, ..Limits::DEFAULT }); // a 2 GiB CSV file
/// assert_eq!(limits().text_bytes, 2 << 30);
/// # set_limits(Limits::DEFAULT);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest line of a text file (CSV), in bytes: a Kaggle row is at most 3,925 bytes
    /// (785 fields of `255,`), so the default leaves room for wide files while a file with no
    /// line breaks fails within a megabyte.
    pub line_bytes: usize,
    /// The most bytes a text file may hold once decompressed.
    pub text_bytes: u64,
    /// The most bytes of data an IDX file may announce.
    pub idx_bytes: u64,
    /// The most bytes the `f32` inputs of a data set built from a file may take (4 per value).
    pub dataset_bytes: u64,
}

impl Limits {
    /// 1 MiB lines, 512 MiB of text (seven times Kaggle's training file), 1 GiB of IDX data
    /// (twice EMNIST's largest file), 4 GiB of inputs.
    ///
    /// ```
    /// use nn::data::Limits;
    ///
    /// assert_eq!(Limits::DEFAULT.line_bytes, 1 << 20);
    /// assert!(Limits::DEFAULT.text_bytes >= 7 * 73_000_000);
    /// assert_eq!(Limits::default(), Limits::DEFAULT);
    /// ```
    pub const DEFAULT: Limits =
        Limits { line_bytes: 1 << 20, text_bytes: 512 << 20, idx_bytes: 1 << 30, dataset_bytes: 4 << 30 };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

static LIMITS: RwLock<Limits> = RwLock::new(Limits::DEFAULT);

/// The limits the data readers keep to now: [`Limits::DEFAULT`] unless [`set_limits`] changed
/// them.
///
/// ```
/// if cfg!(unix) {
///     let error = nn::data::read_kaggle_test("/dev/zero").unwrap_err();
///     let limit = nn::data::limits().line_bytes;
///     assert!(error.to_string().contains(&format!("line 1 is longer than {limit} bytes")), "{error}");
/// }
/// ```
pub fn limits() -> Limits {
    *LIMITS.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Sets the limits of every data reader of this process, from the next file opened on.
///
/// ```
/// use nn::data::{set_limits, Limits};
///
/// // Refuse any IDX file over 100 MB.
/// set_limits(Limits { idx_bytes: 100_000_000, ..Limits::DEFAULT });
/// # set_limits(Limits::DEFAULT);
/// ```
pub fn set_limits(limits: Limits) {
    *LIMITS.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = limits;
}

/// How an error names a limit and says how to change it.
pub(crate) fn limit_hint(field: &str) -> String {
    format!("the limit `Limits::{field}`; raise it with `nn::data::set_limits`")
}
