"""The console's key bindings that more than one widget shares, and the ones F1 lists.

Light on purpose (textual.binding only): the shell imports it before the first frame. Each binding
has an id (for ``[keymap]`` in the config), a short description (the footer's: an 80-column footer
shows every key that matters) and a tooltip that says more (F1, the README's table, hover).
"""

from __future__ import annotations

from textual.binding import Binding

# The run keys live on the pane, so the pane that has focus gets them; the app binds the same ids
# for the app list. Escape on an idle pane falls through to the app's binding, back to the list.
RUN = Binding("ctrl+r", "run", "Run", id="app.run", tooltip="Run the open app (send, in a chat)")
STOP = Binding(
    "escape",
    "stop",
    "Stop",
    id="app.stop",
    tooltip="Stop the running request (the partial answer stays); else back to the app list",
)
NEW_CHAT = Binding(
    "ctrl+n", "new_conversation", "New chat", id="chat.new", tooltip="Start a new conversation"
)
RAW = Binding("ctrl+t", "toggle_raw", "Raw", id="log.raw", tooltip="Show or hide every raw event as JSON")
CONVERSATIONS = Binding(
    "f2",
    "conversations",
    "Chats",
    id="chat.conversations",
    show=False,  # on F1 and the palette: an 80-column footer has no room left
    tooltip="The app's conversations on Dify (and in the local records): open, rename, delete",
)
EXPORT = Binding(
    "ctrl+o",
    "export",
    "Export",
    id="chat.export",
    show=False,  # the 80-column footer has no room left: F1 and the palette ("Export…") list it
    tooltip="Export the conversation as Markdown or JSON",
)
#: A paused run's Human Input form (its widget binds them): F5…F8 press its first…fourth action.
#: Priority: a paragraph field's TextArea binds F6/F7 (select line/all) for itself.
FORM_ACTIONS = tuple(
    Binding(
        f"f{n + 4}",
        f"form_action({n - 1})",
        f"Form action {n}",
        id=f"form.action{n}",
        show=n == 1,
        priority=True,
        tooltip=f"In a paused run's form: press its action button {n} (approve, reject…)",
    )
    for n in (1, 2, 3, 4)
)
#: Every key any pane binds (for F1).
PANE_BINDINGS = (RUN, STOP, NEW_CHAT, CONVERSATIONS, RAW, EXPORT, *FORM_ACTIONS)

#: alt+1…alt+3 ask the chat's suggested questions; priority, or the prompt would type the digit.
SUGGESTIONS = tuple(
    Binding(
        f"alt+{n}",
        f"suggest({n - 1})",
        f"Ask {n}",
        id=f"chat.suggest{n}",
        show=False,
        priority=True,
        tooltip=f"Ask the chat's suggested question {n}",
    )
    for n in (1, 2, 3)
)

# Many terminals cannot tell shift+enter from enter; alt+enter and ctrl+j reach us everywhere
# (alt+enter as ESC CR: see terminal_keys).
NEWLINE = Binding(
    "alt+enter,ctrl+j,shift+enter",
    "newline",
    "New line",
    id="prompt.newline",
    show=False,
    tooltip="In the prompt: insert a new line (Enter sends)",
)
PAGE_UP = Binding(
    "pageup", "app.log_page(-1)", "Scroll up", id="log.page_up", show=False, tooltip="Scroll the answers up"
)
PAGE_DOWN = Binding(
    "pagedown",
    "app.log_page(1)",
    "Scroll down",
    id="log.page_down",
    show=False,
    tooltip="Scroll the answers down",
)

# A chat's answers, current or from history: alt+↑/↓ pick one (the last by default), the others act
# on it. Priority, like the suggestions: the prompt would take alt+letters as text.
ANSWER_BINDINGS = tuple(
    Binding(key, action, description, id=binding_id, show=False, priority=True, tooltip=tooltip)
    for key, action, description, binding_id, tooltip in (
        ("alt+up", "answer_move(-1)", "Prev answer", "answer.prev", "Select the previous answer"),
        ("alt+down", "answer_move(1)", "Next answer", "answer.next", "Select the next answer"),
        ("alt+l", "answer_rate('like')", "Like", "answer.like", "Like the selected answer (Dify feedback)"),
        ("alt+d", "answer_rate('dislike')", "Dislike", "answer.dislike", "Dislike the selected answer"),
        ("alt+x", "answer_rate(None)", "Clear rating", "answer.clear", "Clear the selected answer's rating"),
        ("alt+c", "answer_comment", "Comment", "answer.comment", "Rate the selected answer with a comment"),
    )
)

#: Beside the run keys (F1): the prompt's, the suggestions' and the answers' keys.
PROMPT_BINDINGS = (NEWLINE, *SUGGESTIONS, *ANSWER_BINDINGS)

#: On a file or file-list input: the file picker (difytui/tui/screens/file_picker.py).
PICK_FILE = Binding(
    "ctrl+o",
    "pick_file",
    "Pick file",
    id="form.pick_file",
    show=False,  # the field's hint says it: the 80-column footer has no room left
    tooltip="In a file input: choose files from a folder tree (typing a path or URL works too)",
)
#: The form's keys (F1 lists them after the prompt's).
FORM_BINDINGS = (PICK_FILE,)

# The Runs view (screens/runs_view.py) and a run's detail (screens/run_detail.py).
OPEN_RUNS = Binding(
    "f3",
    "open_runs",
    "Runs",
    id="runs.open",
    show=False,  # on F1 and the palette: the footer has no room left at 80 columns
    tooltip="The open app's recorded runs (and, for a workflow, Dify's own): filter, open, compare",
)
RUNS_FILTER = Binding("slash", "focus_filter", "Filter", id="runs.filter", tooltip="Filter the runs by text")
RUNS_STATUS = Binding(
    "s", "cycle_status", "Status", id="runs.status", tooltip="Show only one status (s again: the next one)"
)
RUNS_MARK = Binding(
    "m", "mark", "Mark", id="runs.mark", tooltip="Mark or unmark the run for comparison (two at most)"
)
RUNS_COMPARE = Binding(
    "c", "compare", "Compare", id="runs.compare", tooltip="Compare the two marked runs side by side"
)
RUNS_RERUN = Binding(
    "ctrl+r", "rerun", "Re-run", id="runs.rerun", tooltip="Run the app again with this run's inputs"
)
RUNS_SAVE_CASE = Binding(
    "ctrl+s",
    "save_case",
    "Save case",
    id="runs.save_case",
    tooltip="Save this run as a new test case of the app (the bench's Save as test case)",
)
RUNS_EXPAND = Binding(
    "e", "expand_all", "Expand", id="runs.expand", tooltip="Open or fold every node of the timeline"
)
RUNS_EXPORT = Binding(
    "x", "export", "Export", id="runs.export", tooltip="Export the run as Markdown or JSON (its events too)"
)
RUNS_BACK = Binding("escape", "back", "Back", id="runs.back", tooltip="Close the run, then the Runs view")
