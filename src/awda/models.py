"""Imports every table so that metadata (and Alembic) sees the whole schema."""

from awda.access.models import ApiToken, User, UserSite
from awda.agreements.models import Agreement, AgreementTerm
from awda.audit.models import Event, LogKey, TreeHead, TreeLeaf
from awda.cards.models import Card, IssuerKey
from awda.convoys.models import Booking, Convoy, ConvoyDestination, Movement
from awda.field.models import FieldAttachment, FieldSubmission
from awda.households.models import (
    Consent,
    Household,
    Intention,
    IntentionMember,
    IntentionTransition,
    Person,
    PersonIdentifier,
    Registration,
)
from awda.linkage.models import LinkageRun, LinkCandidate, PersonMerge
from awda.monitoring.models import Arrival, FollowUp, Incident, IncidentBreach, IncidentPerson
from awda.places.models import Place, Site

__all__ = [
    "Agreement",
    "AgreementTerm",
    "ApiToken",
    "Arrival",
    "Booking",
    "Card",
    "Consent",
    "Convoy",
    "ConvoyDestination",
    "Event",
    "FieldAttachment",
    "FieldSubmission",
    "FollowUp",
    "Household",
    "Incident",
    "IncidentBreach",
    "IncidentPerson",
    "Intention",
    "IntentionMember",
    "IntentionTransition",
    "IssuerKey",
    "LinkCandidate",
    "LinkageRun",
    "LogKey",
    "Movement",
    "Person",
    "PersonIdentifier",
    "PersonMerge",
    "Place",
    "Registration",
    "Site",
    "TreeHead",
    "TreeLeaf",
    "User",
    "UserSite",
]
