"""xAPI for blendkit: statement models, vocabularies, event builders, LRS clients, the outbox."""

from blendkit._renamed import renamed_names as _renamed_names
from blendkit.xapi._assembly import (
    STATEMENT_NAMESPACE,
    LaunchIdentity,
    actor_from_launch,
    iso_duration,
    lti_actor,
    statement_id,
)
from blendkit.xapi._builders import StatementFactory
from blendkit.xapi._client import LRSClient
from blendkit.xapi._client_async import AsyncLRSClient
from blendkit.xapi._client_base import auth_from_settings
from blendkit.xapi._models import (
    XAPI_VERSIONS,
    Account,
    Activity,
    ActivityDefinition,
    Agent,
    Attachment,
    ContextActivities,
    Group,
    InteractionComponent,
    Statement,
    StatementContext,
    StatementRef,
    StatementResult,
    StatementScore,
    SubStatement,
    Verb,
    parse_statement,
)
from blendkit.xapi._outbox import (
    DeadLetter,
    DeliveryReport,
    Outbox,
    OutboxCounters,
    OutboxStatus,
)
from blendkit.xapi._participation import poll_answered, question_posted
from blendkit.xapi._tincan import from_tincan, to_tincan
from blendkit.xapi._vocab import (
    ACTIVITY_STREAMS,
    ADL,
    BLENDKIT,
    CMI5,
    TINCAN,
    VIDEO,
    VIRTUAL_CLASSROOM,
    profile_category,
)
from blendkit.xapi._wire import Document, OAuth2ClientCredentials, StatementsPage

# Plain sorted() order, as tests/test_exported_members.py checks for every public module.
__all__ = [
    "ACTIVITY_STREAMS",
    "ADL",
    "Account",
    "Activity",
    "ActivityDefinition",
    "Agent",
    "AsyncLRSClient",
    "Attachment",
    "BLENDKIT",
    "CMI5",
    "ContextActivities",
    "DeadLetter",
    "DeliveryReport",
    "Document",
    "Group",
    "InteractionComponent",
    "LRSClient",
    "LaunchIdentity",
    "OAuth2ClientCredentials",
    "Outbox",
    "OutboxCounters",
    "OutboxStatus",
    "STATEMENT_NAMESPACE",
    "Statement",
    "StatementContext",
    "StatementFactory",
    "StatementRef",
    "StatementResult",
    "StatementScore",
    "StatementsPage",
    "SubStatement",
    "TINCAN",
    "VIDEO",
    "VIRTUAL_CLASSROOM",
    "Verb",
    "XAPI_VERSIONS",
    "actor_from_launch",
    "auth_from_settings",
    "from_tincan",
    "iso_duration",
    "lti_actor",
    "parse_statement",
    "poll_answered",
    "profile_category",
    "question_posted",
    "statement_id",
    "to_tincan",
]

# Old names (Context, Result, Score) resolve with a DeprecationWarning: docs/reference/api-naming.md
__getattr__ = _renamed_names(
    __name__,
    {
        "Context": "StatementContext",
        "Result": "StatementResult",
        "Score": "StatementScore",
    },
)
