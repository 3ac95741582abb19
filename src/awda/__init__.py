"""awda: a registry for displaced people who want to go home, and for those who help them."""

__version__ = "0.1.0"
