"""Audit a transform set before training on it: can local patches solve it, is it ambiguous? (sec. 4.3)."""

from transformrec.audit.figure import plot_audit
from transformrec.audit.report import CONFUSABLE_THRESHOLD, SHORTCUT_THRESHOLD, AuditReport
from transformrec.audit.transform_audit import audit_transform_set

__all__ = ["CONFUSABLE_THRESHOLD", "SHORTCUT_THRESHOLD", "AuditReport", "audit_transform_set", "plot_audit"]
