use nn::network;

network! {
    struct Net: [1, 28, 28] {
        Conv2d(1, 32, 3) -> ReLU -> MaxPool2d(2) -> Flatten -> Linear(5000, 10)
    }
}

fn main() {}
