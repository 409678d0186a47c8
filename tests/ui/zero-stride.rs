use nn::network;

network! {
    struct Net: [1, 8, 8] {
        Conv2d(1, 4, 3, stride = 0) -> MaxPool2d(2, stride = (1, 0))
    }
}

fn main() {}
