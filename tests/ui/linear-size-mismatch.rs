use nn::network;

network! {
    struct Net {
        Linear(784, 100) -> Sigmoid -> Linear(50, 10)
    }
}

fn main() {}
