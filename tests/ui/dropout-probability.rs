use nn::network;

network! {
    struct Net {
        Linear(784, 100) -> Dropout(1.0) -> ReLU -> Dropout(-0.1) -> Linear(100, 10)
    }
}

fn main() {}
