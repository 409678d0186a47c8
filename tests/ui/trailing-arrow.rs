use nn::network;

network! {
    struct Net {
        Linear(784, 100) -> Sigmoid ->
    }
}

fn main() {}
