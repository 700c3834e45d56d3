"""The plumbing: what keeps files safe and the command line calm, and what no lesson teaches.

`paths` (where data and models live, the environment variables' names), `download` (fetch and verify the
surnames), `atomic` (write a file so that a crash never leaves half of it), `checks` (refuse a damaged or
foreign checkpoint), `cli` (argument types and one-line errors). The lesson modules reach it only through
`rnn_tutorial.data` (to fetch) and `rnn_tutorial.checkpoints` (to write); no notebook imports it.
"""
