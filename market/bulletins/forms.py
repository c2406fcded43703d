from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField

from market.bulletins.services import MAX_COMMENTARY, MAX_NOTE, MAX_TITLE, PERIOD_LABELS
from market.forms import max_length, optional, options, required


class DraftForm(FlaskForm):
    period = SelectField(
        _l("Bulletin"), choices=options(PERIOD_LABELS.items()), validators=[required]
    )
    day = DateField(
        _l("A day in the period"),
        validators=[optional],
        description=_l("Leave it empty for the last complete week or month."),
    )


class BulletinForm(FlaskForm):
    title = StringField(_l("Title"), validators=[required, max_length(MAX_TITLE)])
    commentary = TextAreaField(
        _l("Commentary"),
        validators=[max_length(MAX_COMMENTARY)],
        description=_l(
            "Markdown: **bold**, *italic*, lists starting with -, links as "
            "[text](https://...). HTML and images are not shown."
        ),
    )
    correction_note = TextAreaField(
        _l("Correction note"),
        validators=[max_length(MAX_NOTE)],
        description=_l("Shown at the top of the corrected bulletin: what changed and why."),
    )


class CorrectionForm(FlaskForm):
    note = TextAreaField(
        _l("What does the correction change?"),
        validators=[required, max_length(MAX_NOTE)],
        description=_l(
            "A new version is drafted from this one; readers see the note once it is "
            "published, and the current version stays readable."
        ),
    )
