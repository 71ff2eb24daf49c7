"""The extra questions a campaign's lead form may ask (Campaign.form_questions).

A short list of labels the marketer types, one per line; each becomes an optional one-line
answer on the form, stored with the submission as [question, answer] pairs (the question
as it was asked, so renaming one later does not change what earlier visitors answered).
This module imports no models: the campaign form and the lead form both use it.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_QUESTIONS = 5
QUESTION_MAX = 200
ANSWER_MAX = 500
# rem of iframe height: the form without questions, and each question's label and input.
BASE_HEIGHT_REM = 34
QUESTION_HEIGHT_REM = 4.5


def questions_from_text(text: str) -> list[str]:
    """One question per non-empty line; ValidationError for too many or too long."""
    lines = [" ".join(line.split()) for line in (text or "").splitlines()]
    questions = [line for line in lines if line]
    if len(questions) > MAX_QUESTIONS:
        raise ValidationError(_("Ask at most %(n)s questions.") % {"n": MAX_QUESTIONS})
    if any(len(q) > QUESTION_MAX for q in questions):
        raise ValidationError(_("Keep each question under %(n)s characters.") % {"n": QUESTION_MAX})
    if len(set(questions)) != len(questions):
        raise ValidationError(_("Each question only once, please."))
    return questions


def clean_questions(value) -> list[str]:
    """The stored list, checked (the model's clean: the API or the admin may write it)."""
    if not isinstance(value, list) or not all(isinstance(q, str) for q in value):
        raise ValidationError(_("Give the questions as a list of texts."))
    return questions_from_text("\n".join(value))


def answer_fields(questions: list[str]) -> dict[str, forms.CharField]:
    """The lead form's fields for `questions`: answer_0, answer_1, … (all optional)."""
    return {
        f"answer_{i}": forms.CharField(label=question, max_length=ANSWER_MAX, required=False)
        for i, question in enumerate(questions[:MAX_QUESTIONS])
    }


def frame_height_rem(questions: list[str]) -> float:
    """The embed code's starting height (the form's script then fits it exactly)."""
    return BASE_HEIGHT_REM + QUESTION_HEIGHT_REM * len(questions[:MAX_QUESTIONS])
