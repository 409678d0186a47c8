use nn::network;

network! {
    struct Net {
        Linear(784, hidden) -> ReLU -> Linear(100.5, 10)
    }
}

fn main() {}
