"""rnn-tutorial: the package behind the four notebooks on recurrent neural networks.

A reading path (each module opens by naming the notebook section that teaches it):

- Notebook 1, why an RNN: `marker_task` (the marker task, the MLP), then the classifier at the end of `rnn`.
- Notebook 2, the RNN cell: `rnn` from the top: `RNNCell` (the formula), `unroll` (the loop over steps),
  `RNN` (the sequence model), `RNNDemo` (the article's model).
- Notebook 3, classifying names: `data` (names to letter indices, the split), `batching` (padded batches),
  the classifier in `rnn`, `training` (the article's loop, then `fit`), `metrics` (scores and baselines),
  `inference` (answers for new names), `checkpoints` (saving and loading); going deeper: `ngrams` (the
  character n-gram baseline, and the n-gram bag of the final model), `generation` (a character-level
  language model that writes names).
- Notebook 4, gradient problems: `gradients` (measuring dL/dH_t, clipping, the gated cores' fixes).
- Everywhere: `seeding` (`set_seed`), `config` (the model and the recipe, written once), `plots`.

The plumbing (`rnn_tutorial.plumbing`: downloading, folders, atomic writes, checkpoint checks, the command
line's guards) is what keeps files safe, and no lesson: the lesson modules reach it only through `data`
(to fetch) and `checkpoints` (to write), and no notebook imports it. The command line is `__main__`;
`export` writes notebook 3's model to the JSON file of the site's live demo.
tests/test_layering.py checks these rules and that every module imports only from the layers above its own.

The version number is pyproject.toml's.
"""
