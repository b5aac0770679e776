from __future__ import annotations

from typing import Any

from haoping.audit.models import AuditEntry
from haoping.fields import seal_free_text


def audit_record(*, actor: Any, action: str, target: str, reason: str = "") -> AuditEntry:
    reason, reason_sealed = seal_free_text(reason)
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=getattr(actor, "username", "") or str(actor or "system"),
        action=action,
        target=target,
        reason=reason,
        reason_sealed=reason_sealed,
    )
