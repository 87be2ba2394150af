"""An app's input form: ``/parameters`` → :class:`Field` list, Dify's validation, text → typed values.

The one import for all of it; each job has its own module:

- :mod:`difytui.form_fields` — ``user_input_form`` → :class:`Field` list, the form's variables,
  default values;
- :mod:`difytui.form_validation` — Dify's validation rules, with readable messages;
- :mod:`difytui.form_values` — text (``--input``, TUI boxes) → typed values and back;
- :mod:`difytui.form_files` — file inputs: Dify's file types, a field's upload settings, whether
  the app keeps a run's files.

Values are the client's, not the wire's: a file input may be a ``pathlib.Path`` (uploaded by the
client), an ``http(s)://`` URL string, or a Dify file mapping dict.
"""

from __future__ import annotations

from .form_fields import CONTROLS, Field, Naming, defaults, form_variables, parse_form, unknown_inputs
from .form_files import file_type_of, file_upload_enabled, is_url
from .form_validation import validate, validate_one
from .form_values import FormError, as_text, coerce, join_file_list, restore, split_file_list

__all__ = [
    "CONTROLS",
    "Field",
    "FormError",
    "Naming",
    "as_text",
    "coerce",
    "defaults",
    "file_type_of",
    "file_upload_enabled",
    "form_variables",
    "is_url",
    "join_file_list",
    "parse_form",
    "restore",
    "split_file_list",
    "unknown_inputs",
    "validate",
    "validate_one",
]
