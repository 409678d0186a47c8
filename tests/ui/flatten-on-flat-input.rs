use nn::network;

network! {
    struct Net {
        Linear(784, 100) -> Flatten -> Linear(100, 10)
    }
}

fn main() {}
