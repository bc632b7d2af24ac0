"""Everything from import to documents; imports no Qt so the CLI and tests run headless."""
