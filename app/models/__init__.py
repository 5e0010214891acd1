"""The database schema. One module per concern; every table is registered on ``db.metadata``.

Hot-path writes (message log, meter values, status history) go through SQLAlchemy Core on these
same tables (``Model.__table__``) inside the group-commit writer; everything else uses the ORM.
"""
from .audit import AuditEvent  # noqa: F401
from .base import UTCDateTime, utcnow  # noqa: F401
from .bulk import BulkOperation, BulkOperationResult  # noqa: F401
from .charger import Charger, ConfigurationKey, Connector, StatusNotification  # noqa: F401
from .command import Command  # noqa: F401
from .device_model import (  # noqa: F401
    DeviceReport,
    DeviceReportPart,
    DeviceVariable,
    DeviceVariableAttribute,
)
from .files import (  # noqa: F401
    DiagnosticsFile,
    DiagnosticsRequest,
    DiagnosticsStatus,
    FirmwareDeployment,
    FirmwareFile,
    FirmwareStatus,
)
from .message_log import MessageLog  # noqa: F401
from .node import NodeFeature, NodeMessage, RfidScan  # noqa: F401
from .notification import (  # noqa: F401
    ChargerEvent,
    ChargingLimit,
    CustomerInformation,
    DisplayMessage,
    ReportedChargingProfile,
    ReportedDisplayMessage,
    SecurityEvent,
    StationReport,
)
from .scheduled import Alert, DailyEnergy, MeterValueAggregate  # noqa: F401
from .token import IdToken  # noqa: F401
from .transaction import (  # noqa: F401
    DataTransfer,
    MeterValue,
    Reservation,
    Transaction,
    TransactionEvent,
)
from .user import ApiToken, User  # noqa: F401
