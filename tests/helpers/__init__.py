"""Code the test modules share: what they need from outside Python, and building the project's wheel."""
