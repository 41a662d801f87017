"""MiniStack launcher and its patches; run with MiniStack's own interpreter (.cache/local/venv-ministack)."""
