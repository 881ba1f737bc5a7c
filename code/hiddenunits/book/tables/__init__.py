"""The book's tables (rows with MyST/LaTeX markup), one module per chapter."""
