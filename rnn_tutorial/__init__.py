"""rnn-tutorial: the package behind the four notebooks on recurrent neural networks.

Modules, each one concern; imports go only down this list (the notebooks and `__main__` sit on top):
`utils`, `download`, `config` -> `data` (names, split) -> `batching` -> `rnn` (the models) -> `metrics` ->
`training`, `checkpoints`, `inference`, `gradients`, `toy`, `plots`. The version is pyproject.toml's.
"""
