"""Widgets of the console; none of them does network I/O (panes start workers from difytui.tui.runner)."""
