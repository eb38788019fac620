"""What the scalar and the tensor graphs share: the iterative graph walk, the op node and its
backward driver, and grad mode."""
