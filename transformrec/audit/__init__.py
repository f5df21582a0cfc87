"""Audit a transform set before training on it: can local patches solve it, is it ambiguous? (sec. 4.3)."""

from transformrec.audit.report import AuditReport
from transformrec.audit.transform_audit import audit_transform_set

__all__ = ["AuditReport", "audit_transform_set"]
