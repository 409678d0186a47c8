use nn::network;

network! {
    struct Net {
        Linear(28 * 28, 128 - 200) -> ReLU -> Linear(64 * 2, 10 / 0)
    }
}

fn main() {}
