"""quizgen: randomised, independently verified exercises for multivariate calculus."""

__version__ = "0.1.0"
