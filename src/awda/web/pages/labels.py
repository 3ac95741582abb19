"""The words pages show for the registry's codes (relationships, statuses, reasons, ...).

Codes stay codes in storage and in the API; a page shows `_(labels.status[code])`, so the words are
in the catalogues and a test can check that every code of a vocabulary has one.
"""

from __future__ import annotations

from awda.monitoring.rules import PERPETRATOR_CATEGORIES, SOURCES, IncidentType, Verification


def N_(message: str) -> str:
    """Marks a text for the catalogues; it is translated where it is shown (`_()` in the template)."""
    return message


RELATIONSHIP = {
    "head": N_("Head of household"),
    "spouse": N_("Spouse"),
    "son": N_("Son"),
    "daughter": N_("Daughter"),
    "father": N_("Father"),
    "mother": N_("Mother"),
    "brother": N_("Brother"),
    "sister": N_("Sister"),
    "grandchild": N_("Grandchild"),
    "grandparent": N_("Grandparent"),
    "other_relative": N_("Other relative"),
    "unrelated": N_("Not related"),
}
SEX = {"female": N_("Female"), "male": N_("Male")}
DOCUMENT_TYPE = {
    "national_id": N_("National identity card"),
    "family_booklet": N_("Family booklet"),
    "passport": N_("Passport"),
    "unhcr": N_("UNHCR document"),
    "other": N_("Other document"),
}
VULNERABILITY = {
    "medical": N_("Medical condition"),
    "disability": N_("Disability"),
    "elderly": N_("Elderly"),
    "pregnant": N_("Pregnant"),
    "unaccompanied_child": N_("Unaccompanied child"),
    "female_headed": N_("Female-headed household"),
}
PURPOSE = {
    "registration": N_("Registration"),
    "movement": N_("Movement (waiting lists and convoys)"),
    "follow_up": N_("Follow-up after return"),
    "card": N_("Protection card"),
    "card_name": N_("Name printed on the card"),
    "aggregate_sharing": N_("Sharing in aggregate statistics"),
}
KIND = {"return": N_("Return home"), "relocate": N_("Relocate"), "evacuate": N_("Evacuate")}
STATUS = {
    "registered": N_("Registered"),
    "waitlisted": N_("On the waiting list"),
    "assigned": N_("Assigned to a convoy"),
    "departed": N_("Departed"),
    "arrived": N_("Arrived"),
    "withdrawn": N_("Withdrawn"),
    "cancelled": N_("Cancelled"),
}
# What a button that moves an intention to the status says.
STATUS_ACTION = {
    "waitlisted": N_("Put on the waiting list"),
    "assigned": N_("Assign to a convoy"),
    "departed": N_("Record the departure"),
    "arrived": N_("Record the arrival"),
    "withdrawn": N_("Withdraw"),
    "cancelled": N_("Cancel"),
}
REASON = {
    "": N_("No reason given"),
    "changed_mind": N_("Changed their mind"),
    "stayed": N_("Decided to stay"),
    "family_reasons": N_("Family reasons"),
    "security": N_("Security"),
    "duplicate": N_("Duplicate registration"),
    "missed_convoy": N_("Missed the convoy"),
    "not_reconfirmed": N_("Did not re-confirm"),
    "convoy_cancelled": N_("Convoy cancelled"),
    "data_error": N_("Data entry error"),
    "other": N_("Other reason"),
}
PAIR_STATUS = {"pending": N_("Waiting for review"), "merged": N_("Merged"), "rejected": N_("Not the same person")}
REVOCATION = {
    "lost": N_("Lost"),
    "stolen": N_("Stolen"),
    "misuse": N_("Misused"),
    "issued_in_error": N_("Issued in error"),
    "replaced": N_("Replaced by a new card"),
    "holder_request": N_("At the holder's request"),
}
INCIDENT_TYPE = {
    "arrest": N_("Arrest"),
    "detention": N_("Detention"),
    "enforced_disappearance": N_("Enforced disappearance"),
    "conscription": N_("Conscription"),
    "killing": N_("Killing"),
    "injury": N_("Injury"),
    "property_seizure": N_("Seizure of property"),
    "extortion": N_("Extortion"),
    "denial_of_entry": N_("Denial of entry"),
    "checkpoint_harassment": N_("Harassment at a checkpoint"),
}
PERPETRATOR = {
    "military_security": N_("Military security"),
    "state_security": N_("State security"),
    "political_security": N_("Political security"),
    "air_force_intelligence": N_("Air force intelligence"),
    "general_intelligence": N_("General intelligence"),
    "military_police": N_("Military police"),
    "regular_army": N_("Regular army"),
    "checkpoint_forces": N_("Checkpoint forces"),
    "pro_government_militia": N_("Pro-government militia"),
    "local_authorities": N_("Local authorities"),
    "armed_group": N_("Armed group"),
    "foreign_forces": N_("Foreign forces"),
    "aerial_bombardment": N_("Aerial bombardment"),
    "explosive_remnants_of_war": N_("Explosive remnants of war"),
    "criminal_group": N_("Criminal group"),
    "unknown": N_("Unknown"),
    "other": N_("Other"),
}
SOURCE = {
    "household": N_("The household"),
    "community": N_("The community"),
    "monitor": N_("A monitor"),
    "partner_organisation": N_("A partner organisation"),
    "media": N_("Media"),
    "authorities": N_("Authorities"),
    "other": N_("Other source"),
}
VERIFICATION = {"reported": N_("Reported"), "credible": N_("Credible"), "verified": N_("Verified")}
PRECISION = {"day": N_("Exact day"), "month": N_("Month only"), "year": N_("Year only")}
# The codes the incident form offers, in the order it shows them.
INCIDENT_CODES = {
    "incident_types": [kind.value for kind in IncidentType],
    "perpetrators": sorted(PERPETRATOR_CATEGORIES),
    "sources": sorted(SOURCES),
    "verifications": [level.value for level in Verification],
    "precisions": ["day", "month", "year"],
}
OUTCOME = {
    "reached": N_("Reached"),
    "not_reached": N_("Not reached"),
    "moved": N_("Moved away"),
    "refused": N_("Refused"),
    "cancelled": N_("No longer due"),
}
CONVOY_STATUS = {"scheduled": N_("Scheduled"), "departed": N_("On the road"), "arrived": N_("Arrived")}
COHORT_KIND = {"agreement": N_("Agreement"), "guarantor": N_("Guarantor")}
CAUSE = {
    "arrest_detention": N_("Arrest or detention"),
    "conscription": N_("Conscription"),
    "death_disappearance": N_("Killing or disappearance"),
}
SEARCH_KIND = {"reference": N_("Reference code"), "phone": N_("Phone number"), "document": N_("Document number")}

LABELS = {
    "relationship": RELATIONSHIP,
    "sex": SEX,
    "document_type": DOCUMENT_TYPE,
    "vulnerability": VULNERABILITY,
    "purpose": PURPOSE,
    "kind": KIND,
    "status": STATUS,
    "status_action": STATUS_ACTION,
    "reason": REASON,
    "pair_status": PAIR_STATUS,
    "search_kind": SEARCH_KIND,
    "revocation": REVOCATION,
    "incident_type": INCIDENT_TYPE,
    "perpetrator": PERPETRATOR,
    "source": SOURCE,
    "verification": VERIFICATION,
    "precision": PRECISION,
    "cohort_kind": COHORT_KIND,
    "cause": CAUSE,
    "outcome": OUTCOME,
    "convoy_status": CONVOY_STATUS,
}
