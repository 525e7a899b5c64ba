"""condabot: keeps Miniconda and Anaconda Docker images current and published."""

__version__ = "0.1.0"
