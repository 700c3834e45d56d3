"""rnn-tutorial: the package behind the four notebooks on recurrent neural networks."""
__version__ = "0.1.0"
