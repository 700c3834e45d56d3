"""rnn-tutorial: the package behind the four notebooks on recurrent neural networks.

One concern per module, in layers; a module imports only from the layers above its own
(tests/test_layering.py checks it), and the notebooks and the command line (`__main__`) sit below them all:

1. `utils` (seeding, folders), `config` (the model and the training recipe), `plots`
2. `download` (the surnames archive)
3. `data` (names, the split, letter indices)
4. `batching` (padded batches, the order of an epoch)
5. `rnn` (the cells, the cores, the models)
6. `metrics` (evaluation, scores, baselines)
7. `training`, `checkpoints`, `inference`, `gradients` (notebook 4), `toy` (notebook 1): none imports another

The version number is pyproject.toml's.
"""
