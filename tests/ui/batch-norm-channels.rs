use nn::network;

network! {
    struct Net: [1, 28, 28] {
        Conv2d(1, 32, 3) -> BatchNorm2d(16) -> Flatten -> Linear(21632, 10) -> BatchNorm1d(12)
    }
}

fn main() {}
