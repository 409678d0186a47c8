use nn::network;

network! {
    struct Net {
        Linear(784) -> ReLU
    }
}

fn main() {}
