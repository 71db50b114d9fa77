"""ecm_tf: the Emotional Chatting Machine (Zhou et al., AAAI 2018) and CERG in TF2/Keras 3."""

import os

# TensorFlow's default CPU allocator hands large buffers back to the OS when they are freed, so
# every training step page-faults its activations (hundreds of MB at the paper size) in again.
# The BFC allocator keeps them in a pool: ECM paper-config training 1.32x faster on 2 cores
# (bench/bench_allocator.py; bench/README.md). TensorFlow reads the variable when it creates its
# first tensor, so it is set here, before any module of the package runs an op;
# export TF_CPU_ALLOCATOR_USE_BFC=false to opt out.
os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")

__version__ = "0.1.0"
