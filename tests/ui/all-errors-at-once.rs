use nn::network;

network! {
    struct Net {
        Linear(784, 100) -> Sigmoid -> Linear(10, 10) -> Relu -> Linear(10, 0)
    }
}

fn main() {}
