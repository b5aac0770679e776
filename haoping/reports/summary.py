"""The report's written summary: a few sentences a manager can paste into a note sent upward, every
figure in them read from the report's own content (never typed), the wording through the
translation catalogue with placeholders."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from haoping.reports.selectors import CaseLine, Line, MonthlyContent, Problem, SummaryLine, month_label

# How many child regions, units and words a sentence names; the tables list them all.
NAMED = 3


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _share(part: int, whole: int) -> str:
    return _percent(part / whole)


def _join(parts: list[str]) -> str:
    return pgettext("list separator", ", ").join(parts)


def _counts(content: MonthlyContent) -> str | None:
    lines = {line.key: line for line in content.summary}
    total, bad = lines.get("total"), lines.get("valid_bad")
    if total is None or bad is None:
        return None
    return _(
        "In %(month)s %(region)s received %(total)d ratings (previous month %(previous)d), "
        "of which %(bad)d valid bad reviews (previous month %(previous_bad)d)."
    ) % {
        "month": month_label(content.first),
        "region": content.region.name,
        "total": total.value or 0,
        "previous": total.previous or 0,
        "bad": bad.value or 0,
        "previous_bad": bad.previous or 0,
    }


def _moved(line: SummaryLine) -> str:
    assert line.change is not None and line.value is not None
    return _("%(label)s (%(points).1f points, to %(value)s)") % {
        "label": line.label,
        "points": abs(line.change),
        "value": _percent(float(line.value)),
    }


def _rates(content: MonthlyContent) -> list[str]:
    """What rose and what fell against the previous month; a rate missing in either month is left out."""
    rates = [line for line in content.summary if line.is_rate and line.change is not None]
    if not rates:
        return [_("The rates cannot be compared with the previous month, which lacks the data.")]
    rose = [_moved(line) for line in rates if line.change > 0]  # type: ignore[operator]
    fell = [_moved(line) for line in rates if line.change < 0]  # type: ignore[operator]
    sentences = []
    if rose:
        sentences.append(_("Rose against the previous month: %(rates)s.") % {"rates": _join(rose)})
    if fell:
        sentences.append(_("Fell against the previous month: %(rates)s.") % {"rates": _join(fell)})
    if not rose and not fell:
        sentences.append(_("Every rate is where it was the previous month."))
    return sentences


def _regions(children: list[Line]) -> str | None:
    """Where valid bad reviews concentrate among the child regions."""
    whole = sum(line.counts["valid_bad"] for line in children)
    if not whole:
        return None
    worst = sorted((line for line in children if line.counts["valid_bad"]), key=lambda line: -line.counts["valid_bad"])
    places = [
        _("%(name)s (%(n)d, %(share)s)")
        % {"name": line.name, "n": line.counts["valid_bad"], "share": _share(line.counts["valid_bad"], whole)}
        for line in worst[:NAMED]
    ]
    return _("Valid bad reviews concentrate in %(places)s.") % {"places": _join(places)}


def _items(problems: list[Problem]) -> str:
    items = [p for p in problems if p.kind == "item"]
    if not items:
        return _("No valid bad review this month.")
    worst = items[0]
    words = [term for term, _n in worst.terms if not term.startswith("#")][:NAMED]
    values = {"item": worst.name, "n": worst.valid_bad}
    if not words:
        return _("The service item with the most valid bad reviews is %(item)s (%(n)d).") % values
    quoted = [pgettext("quoted word", "“%(word)s”") % {"word": word} for word in words]
    return _("The service item with the most valid bad reviews is %(item)s (%(n)d); most often heard: %(words)s.") % {
        **values,
        "words": _join(quoted),
    }


def _overdue(cases: list[CaseLine]) -> str:
    if not cases or not cases[0].opened:
        return _("No bad-review case was opened this month.")
    everyone, units = cases[0], cases[1:]
    if not everyone.overdue:
        return _("None of the %(opened)d bad-review cases opened this month went overdue.") % {
            "opened": everyone.opened
        }
    late = sorted((u for u in units if u.overdue), key=lambda u: (-u.overdue, u.name))
    named = [_("%(name)s (%(n)d)") % {"name": u.name, "n": u.overdue} for u in late[:NAMED]]
    return _("Of the %(opened)d bad-review cases opened this month, %(overdue)d went overdue, at %(units)s.") % {
        "opened": everyone.opened,
        "overdue": everyone.overdue,
        "units": _join(named),
    }


def written_summary(content: MonthlyContent) -> list[str]:
    """The sentences of the summary, in the order a reader asks: how much, what moved, where the
    bad reviews are, what they are about, and whether the cases kept their deadlines."""
    sentences = [_counts(content), *_rates(content), _regions(content.children), _items(content.problems)]
    sentences.append(_overdue(content.cases))
    return [s for s in sentences if s]
