use nn::network;

network! {
    struct Net {
        Linear(4, 4) -> Sigmoid(2)
    }
}

fn main() {}
