"""Agreements: settlement and reconciliation agreements, their guarantors and terms."""
