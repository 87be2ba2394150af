"""Builders of the ``GET /parameters`` body, in the shapes Dify gives easy-UI and graph apps."""

from __future__ import annotations

_SYSTEM_PARAMETERS = {
    "image_file_size_limit": 10,
    "video_file_size_limit": 100,
    "audio_file_size_limit": 50,
    "file_size_limit": 15,
    "workflow_file_upload_limit": 10,
}

IMAGE_UPLOAD = {
    "enabled": True,
    "allowed_file_types": ["image"],
    "allowed_file_extensions": [],
    "allowed_file_upload_methods": ["local_file", "remote_url"],
    "number_limits": 3,
    "image": {
        "enabled": True,
        "number_limits": 3,
        "detail": "high",
        "transfer_methods": ["local_file", "remote_url"],
    },
}


def params(form, *, workflow, opening=None, questions=(), file_upload=None, retriever=False):
    """A ``/parameters`` body in the shape Dify builds for easy-UI (workflow=False) or graph apps."""
    return {
        "opening_statement": opening if (opening or workflow) else "",
        "suggested_questions": list(questions),
        "suggested_questions_after_answer": {"enabled": False},
        "speech_to_text": {"enabled": False},
        "text_to_speech": {"enabled": False, "voice": "", "language": ""},
        "retriever_resource": {"enabled": retriever},
        "annotation_reply": {"enabled": False},
        "more_like_this": {"enabled": False},
        "user_input_form": form,
        "sensitive_word_avoidance": (
            {"enabled": False} if workflow else {"enabled": False, "type": "", "config": {}}
        ),
        "file_upload": file_upload
        if file_upload is not None
        else ({} if workflow else {"image": {"enabled": False, "number_limits": 3}}),
        "system_parameters": dict(_SYSTEM_PARAMETERS),
    }


def item(kind: str, workflow: bool, **fields):
    # Workflow apps wrap each start-node variable as {type: variable}, so `type` is repeated inside.
    inner = {"type": kind, **fields} if workflow else dict(fields)
    return {kind: inner}


FILE_METHODS = ["local_file", "remote_url"]
