//! PyTorch interop: a network's tensors as a safetensors file, named and laid out as PyTorch's
//! `nn.Sequential` names and lays out its `state_dict`, so that `safetensors.torch.load_file`
//! and `model.load_state_dict` take it as it is, and the other way round.

use super::atomic_file::write_atomically;
use super::model_file::open_regular_file;
use super::{ModelFileError, TensorProblem};
use crate::layers::TensorName;
use crate::network::Network;
use safetensors::tensor::{Dtype, Metadata, SafeTensors, TensorView};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// The longest safetensors header read: a network's names and shapes take a few kilobytes.
const HEADER_LIMIT: u64 = 1 << 20;

/// PyTorch counts batches in an `int64` scalar; every other tensor is a float.
fn is_counter(name: &TensorName) -> bool {
    name.tensor == "num_batches_tracked"
}

/// Writes `network`'s tensors to `path` as safetensors, atomically (see
/// [`Network::save_safetensors`]).
pub(crate) fn save<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(
    network: &N,
    path: &Path,
) -> Result<(), ModelFileError> {
    let mut tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    network.visit_tensors(&mut |tensor| {
        let (dtype, bytes) = if is_counter(&tensor.name) {
            (Dtype::I64, tensor.values.iter().flat_map(|&value| (value as i64).to_le_bytes()).collect())
        } else {
            (Dtype::F32, tensor.values.iter().flat_map(|value| value.to_le_bytes()).collect())
        };
        tensors.push((tensor.name.to_string(), dtype, tensor.shape.to_vec(), bytes));
    });
    let views = tensors.iter().map(|(name, dtype, shape, bytes)| {
        let view = TensorView::new(*dtype, shape.clone(), bytes).expect("the bytes of each tensor match its shape");
        (name.as_str(), view)
    });
    // What `safetensors.torch.save_file` writes, so PyTorch tooling takes the file as its own.
    let metadata = HashMap::from([("format".to_owned(), "pt".to_owned())]);
    let bytes = safetensors::serialize(views, Some(metadata))
        .map_err(|error| ModelFileError::Io { path: path.to_owned(), source: std::io::Error::other(error) })?;
    write_atomically(path, &bytes).map_err(|source| ModelFileError::Io { path: path.to_owned(), source })
}

/// Reads a network from a safetensors file (see [`Network::load_safetensors`]).
pub(crate) fn load<N: Network<IN, OUT>, const IN: usize, const OUT: usize>(path: &Path) -> Result<N, ModelFileError> {
    let bytes = read(path, &expected_tensors::<N, IN, OUT>(), N::ARCHITECTURE)?;
    let not_safetensors = |reason: String| ModelFileError::NotSafetensors { path: path.to_owned(), reason };
    let file = SafeTensors::deserialize(&bytes).map_err(|error| not_safetensors(error.to_string()))?;
    let mut network = N::zeroed();
    let mut problems = Vec::new();
    network.visit_tensors_mut(&mut |tensor| {
        let name = tensor.name.to_string();
        let view = file.tensor(&name).expect("every tensor was checked against the header");
        if let Err(problem) = convert(&name, &view, tensor.values) {
            problems.push(problem);
        }
    });
    if !problems.is_empty() {
        return Err(ModelFileError::TensorsDoNotFit { path: path.to_owned(), architecture: N::ARCHITECTURE, problems });
    }
    Ok(network)
}

/// The network's tensors: name, shape, whether an integer counter.
fn expected_tensors<N: Network<IN, OUT>, const IN: usize, const OUT: usize>() -> Vec<(String, Vec<usize>, bool)> {
    let mut tensors = Vec::new();
    N::zeroed().visit_tensors(&mut |tensor| {
        tensors.push((tensor.name.to_string(), tensor.shape.to_vec(), is_counter(&tensor.name)))
    });
    tensors
}

/// The whole file, once its header matches `expected`: the header is read first (at most
/// [`HEADER_LIMIT`]) and compared, so a file of another network is refused with every
/// difference listed before its data is read, and what is read is bounded by the network's size.
fn read(
    path: &Path,
    expected: &[(String, Vec<usize>, bool)],
    architecture: &'static str,
) -> Result<Vec<u8>, ModelFileError> {
    let io_error = |source| ModelFileError::Io { path: path.to_owned(), source };
    let not_safetensors = |reason: String| ModelFileError::NotSafetensors { path: path.to_owned(), reason };
    let mut file = open_regular_file(path)?;
    let mut bytes = vec![0u8; 8];
    file.read_exact(&mut bytes)
        .map_err(|_| not_safetensors("shorter than the 8 bytes of its header's length".into()))?;
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if header_len > HEADER_LIMIT {
        return Err(not_safetensors(format!("a header of {header_len} bytes (at most {HEADER_LIMIT} are read)")));
    }
    let mut header = Vec::new();
    (&mut file).take(header_len).read_to_end(&mut header).map_err(io_error)?;
    if header.len() as u64 != header_len {
        return Err(not_safetensors(format!(
            "its header is {header_len} bytes but the file ends after {}",
            header.len()
        )));
    }
    let metadata: Metadata =
        serde_json::from_slice(&header).map_err(|error| not_safetensors(format!("its header: {error}")))?;
    let problems = compare(&metadata, expected);
    if !problems.is_empty() {
        return Err(ModelFileError::TensorsDoNotFit { path: path.to_owned(), architecture, problems });
    }
    bytes.extend_from_slice(&header);
    // The names, shapes and types match the network's: the data is at most 8 bytes a value.
    let data_len = metadata.data_len() as u64;
    (&mut file).take(data_len + 1).read_to_end(&mut bytes).map_err(io_error)?;
    let found = bytes.len() as u64 - 8 - header_len;
    if found != data_len {
        let what = if found > data_len { "more" } else { "fewer" };
        return Err(not_safetensors(format!(
            "its header describes {data_len} bytes of data but the file holds {what}"
        )));
    }
    Ok(bytes)
}

/// Every difference between the file's tensors (names, shapes, types) and the network's.
fn compare(metadata: &Metadata, expected: &[(String, Vec<usize>, bool)]) -> Vec<TensorProblem> {
    let found = metadata.tensors();
    let mut problems = Vec::new();
    for (name, shape, counter) in expected {
        let Some(info) = found.get(name) else {
            problems.push(TensorProblem::Missing { name: name.clone(), shape: shape.clone() });
            continue;
        };
        if &info.shape != shape {
            let (expected, found) = (shape.clone(), info.shape.clone());
            problems.push(TensorProblem::WrongShape { name: name.clone(), expected, found });
        }
        let float = matches!(info.dtype, Dtype::F32 | Dtype::F16 | Dtype::BF16);
        if !(float || *counter && info.dtype == Dtype::I64) {
            problems.push(TensorProblem::WrongDtype { name: name.clone(), found: format!("{:?}", info.dtype) });
        }
    }
    let mut unexpected: Vec<_> =
        found.iter().filter(|(name, _)| !expected.iter().any(|(expected, ..)| expected == *name)).collect();
    unexpected.sort_by(|a, b| a.0.cmp(b.0));
    for (name, info) in unexpected {
        problems.push(TensorProblem::Unexpected { name: name.clone(), shape: info.shape.clone() });
    }
    problems
}

/// Copies `view`'s values into `values`, converting F16, BF16 and I64 to f32; an error if one
/// is not finite.
fn convert(name: &str, view: &TensorView<'_>, values: &mut [f32]) -> Result<(), TensorProblem> {
    let data = view.data();
    let width = view.dtype().bitsize() / 8;
    for (value, bytes) in values.iter_mut().zip(data.chunks_exact(width)) {
        *value = match view.dtype() {
            Dtype::F32 => f32::from_le_bytes(bytes.try_into().expect("4 bytes")),
            Dtype::F16 => half::f16::from_le_bytes(bytes.try_into().expect("2 bytes")).to_f32(),
            Dtype::BF16 => half::bf16::from_le_bytes(bytes.try_into().expect("2 bytes")).to_f32(),
            Dtype::I64 => i64::from_le_bytes(bytes.try_into().expect("8 bytes")) as f32,
            other => unreachable!("{other:?} was refused with the header"),
        };
    }
    match values.iter().position(|value| !value.is_finite()) {
        Some(index) => Err(TensorProblem::NotFinite { name: name.to_owned(), index, value: values[index] }),
        None => Ok(()),
    }
}
