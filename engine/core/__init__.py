"""The tensor core: ``Tensor``, its dtypes and type promotion, creation, printing, random numbers,
and checkpoints. Every derivative lives one layer down, in ``engine.ops``."""
