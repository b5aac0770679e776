"""Paper forms (书面评价表) keyed in at the console, each with a photo of the form as evidence.

A form rates through the one rating service on channel paper, with the form's date as its rating
time; the region's grace (ChannelPolicy.paper_grace_days) says how long after a service's window
closed its forms may still be keyed in, replacing the default rating recorded meanwhile (R2, R3:
`evaluation_submit(paper_grace=…)`). Each replacement leaves an audit row and is listed for
managers' spot checks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import filetype
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from haoping.accounts.access import Actor, within_region
from haoping.audit.models import AuditEntry
from haoping.audit.services import audit_record
from haoping.channels.models import PaperForm, paper_photo_path
from haoping.channels.selectors import paper_grace_for
from haoping.errors import Forbidden, Invalid, NotFound
from haoping.evaluations.models import Evaluation
from haoping.evaluations.services import evaluation_submit
from haoping.records.models import RatingSlot, ServiceRecord

# A photo or a scan of the form: extension → (stored type, what the content must be).
PHOTO_TYPES = {
    ".jpg": ("image/jpeg", {"image/jpeg"}),
    ".jpeg": ("image/jpeg", {"image/jpeg"}),
    ".png": ("image/png", {"image/png", "image/apng"}),
    ".pdf": ("application/pdf", {"application/pdf"}),
}
MAX_PHOTO_BYTES = 10 * 2**20
HEAD_BYTES = 8192


@dataclass(frozen=True)
class PaperRow:
    record_no: str
    form_date: dt.date
    level: Any
    reasons: list[str]
    comment: str
    photo: UploadedFile | None


def paper_records_visible(actor: Actor) -> QuerySet[ServiceRecord]:
    """Whose forms the actor may key in: a manager, their region's records; a handler, their unit's.
    Window staff key in none (R10: nobody handles the ratings of their own service)."""
    if actor.has("manager") and actor.region is not None:
        return ServiceRecord.objects.filter(within_region(actor.region))
    if actor.has("handler") and actor.unit_id is not None:
        return ServiceRecord.objects.filter(item__department_id=actor.unit_id)
    return ServiceRecord.objects.none()


def replacements_visible(actor: Actor) -> QuerySet[PaperForm]:
    """R13: the paper forms that replaced a default rating, for a manager's spot checks."""
    if not (actor.has("manager") and actor.region is not None):
        return PaperForm.objects.none()
    forms = PaperForm.objects.filter(within_region(actor.region), replaced__isnull=False)
    return forms.select_related("evaluation", "replaced").order_by("-keyed_at", "-pk")


def api_replacements_visible(actor: Actor) -> QuerySet[Evaluation]:
    """R13: the default ratings replaced by paper forms entered over the API (`POST /evaluations`),
    which the business system keeps the forms of, for the same spot checks."""
    if not (actor.has("manager") and actor.region is not None):
        return Evaluation.objects.none()
    keyed_here = PaperForm.objects.filter(evaluation=OuterRef("pk"))
    replacing = Evaluation.objects.filter(within_region(actor.region), supersedes__isnull=False)
    replacing = replacing.filter(~Exists(keyed_here)).select_related("supersedes", "record")
    return replacing.order_by("-created_at", "-pk")


def _photo_check(photo: UploadedFile | None) -> tuple[str, str, bytes]:
    if photo is None:
        raise Invalid("photo_required", _("photo: attach a photo or scan of the form"), field="photo")
    name = (photo.name or "").rsplit("/", 1)[-1]
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if extension not in PHOTO_TYPES:
        raise Invalid("file_type", _("photo: %(name)s is not a JPEG, PNG or PDF file") % {"name": name}, field="photo")
    size = photo.size or 0
    if size == 0 or size > MAX_PHOTO_BYTES:
        raise Invalid(
            "file_size",
            _("photo: %(name)s must hold between 1 byte and %(max)d MB")
            % {"name": name, "max": MAX_PHOTO_BYTES // 2**20},
            field="photo",
        )
    photo.seek(0)
    content = photo.read()
    content_type, signatures = PHOTO_TYPES[extension]
    if filetype.guess_mime(content[:HEAD_BYTES]) not in signatures:
        raise Invalid(
            "file_type",
            _("photo: %(name)s is not really a %(ext)s file") % {"name": name, "ext": extension},
            field="photo",
        )
    return extension, content_type, content


def _form_moment(form_date: dt.date, slot: RatingSlot | None, now: dt.datetime) -> dt.datetime:
    """The rating time of a form that gives only its date: the latest moment of that day that lies
    within the service's window and is not in the future; outside the window, the end of the day
    (which the rules then refuse)."""
    tz = timezone.get_current_timezone()
    moment = dt.datetime.combine(form_date, dt.time(23, 59, 59), tzinfo=tz)
    if slot is not None and slot.closes_at is not None:
        if timezone.localdate(slot.closes_at) == form_date:
            moment = min(moment, slot.closes_at)
        if timezone.localdate(slot.opens_at) == form_date:
            moment = max(moment, slot.opens_at)
    return min(moment, now)


def paper_form_record(*, actor: Actor, row: PaperRow, now: dt.datetime | None = None) -> PaperForm:
    """Key in one paper form; the same form keyed in twice (same photo) is stored once."""
    now = now or timezone.now()
    if actor.user is None:
        raise Forbidden("forbidden", _("paper forms are keyed in by a signed-in console user"))
    record = paper_records_visible(actor).filter(record_no=row.record_no).select_related("region").first()
    if record is None:
        raise NotFound("not_found", _("record %(no)s not found") % {"no": row.record_no}, field="record_no")
    extension, content_type, content = _photo_check(row.photo)
    digest = hashlib.sha256(content).hexdigest()
    slot = RatingSlot.objects.filter(record=record, kind=RatingSlot.Kind.COMPLETION).first()
    grace = paper_grace_for(record.region)
    with transaction.atomic():
        submission = evaluation_submit(
            client=None,
            record_no=record.record_no,
            level=row.level,
            channel=Evaluation.Channel.PAPER,
            reasons=row.reasons,
            comment=row.comment,
            rated_at=_form_moment(row.form_date, slot, now),
            client_ref=f"paper:{digest[:40]}",
            paper_grace=grace,
        )
        first = submission.evaluations[0]
        if submission.replayed:
            earlier = PaperForm.objects.filter(evaluation=first).first()
            if earlier is not None:
                return earlier
        form = PaperForm(
            region=record.region,
            evaluation=first,
            replaced=first.supersedes,
            record_no=record.record_no,
            form_date=row.form_date,
            photo_sha256=digest,
            photo_extension=extension,
            photo_type=content_type,
            keyed_by=actor.user,
            keyed_by_label=actor.label[:150],
            keyed_at=now,
        )
        stored_name = paper_photo_path(form, "")
        form.photo.name = stored_name
        form.save(force_insert=True)
        if form.replaced is not None:
            audit_record(
                actor=actor.user,
                action=AuditEntry.Action.REPLACE_DEFAULT,
                target=_("record %(no)s") % {"no": record.record_no},
                reason=_("paper form dated %(date)s replaced default rating #%(id)d (level %(level)d)")
                % {"date": row.form_date.isoformat(), "id": form.replaced.pk, "level": form.replaced.level},
            )
        transaction.on_commit(lambda: _photo_write(stored_name, content), robust=True)
    return form


def _photo_write(name: str, content: bytes) -> None:
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(content))


def paper_form_visible(actor: Actor, form_id: int) -> PaperForm | None:
    records = paper_records_visible(actor).values("record_no")
    return PaperForm.objects.filter(Q(pk=form_id) & Q(record_no__in=records)).first()
