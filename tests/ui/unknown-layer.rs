use nn::network;

network! {
    struct Net {
        Linear(784, 100) -> Sigmod -> Linear(100, 10)
    }
}

fn main() {}
