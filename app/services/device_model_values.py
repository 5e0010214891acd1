"""Domain values of a charger's device model (OCPP 2.x components and variables).

What the 2.x adapters hand ``services.device_model`` and what it answers, with no camelCase
field. A variable is addressed by a ``VariableRef`` (its component, the component's EVSE and
connector, the variable's name and instance); names and instances are case-insensitive, as
OCPP says, so ``VariableRef.key`` folds them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ATTRIBUTE_TYPES = ("Actual", "Target", "MinSet", "MaxSet")
MUTABILITIES = ("ReadOnly", "WriteOnly", "ReadWrite")
DATA_TYPES = ("string", "decimal", "integer", "dateTime", "boolean", "OptionList",
              "SequenceList", "MemberList")
# GetVariables answers the first five; SetVariables also RebootRequired.
RESULT_STATUSES = ("Accepted", "Rejected", "UnknownComponent", "UnknownVariable",
                   "NotSupportedAttributeType", "RebootRequired")


@dataclass(frozen=True, slots=True)
class ComponentRef:
    """A physical or logical component; ``evse_id`` (> 0) and ``connector_id`` place it."""

    name: str
    instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None


@dataclass(frozen=True, slots=True)
class VariableRef:
    """One variable of one component: the unit GetVariables and SetVariables address."""

    component: ComponentRef
    name: str
    instance: str | None = None

    @property
    def key(self) -> str:
        """The identity of the variable on its charger: names case-folded (OCPP compares them
        ignoring case), absent parts empty. Unique per charger in the database."""
        c = self.component
        parts = (c.name.casefold(), (c.instance or "").casefold(),
                 "" if c.evse_id is None else str(c.evse_id),
                 "" if c.connector_id is None else str(c.connector_id),
                 self.name.casefold(), (self.instance or "").casefold())
        # \x1f (unit separator) cannot occur in the names a schema-valid charger sends.
        return "\x1f".join(parts)

    def __str__(self) -> str:
        c = self.component
        text = c.name + (f"[{c.instance}]" if c.instance else "")
        if c.evse_id is not None:
            text += f"@{c.evse_id}" + ("" if c.connector_id is None else f".{c.connector_id}")
        return f"{text}.{self.name}" + (f"[{self.instance}]" if self.instance else "")


@dataclass(frozen=True, slots=True)
class VariableAttribute:
    """One attribute of a variable as reported. ``value`` is None for a WriteOnly one."""

    type: str = "Actual"
    value: str | None = None
    mutability: str = "ReadWrite"
    persistent: bool = False
    constant: bool = False


@dataclass(frozen=True, slots=True)
class VariableCharacteristics:
    """What a variable can hold: its data type, unit, limits and allowed values."""

    data_type: str
    supports_monitoring: bool
    unit: str | None = None
    min_limit: float | None = None
    max_limit: float | None = None
    # The charger's comma-separated list (OptionList, MemberList, SequenceList).
    values_list: str | None = None


@dataclass(frozen=True, slots=True)
class ReportedVariable:
    """One row of a NotifyReport: a variable, its attributes (1 to 4) and characteristics."""

    ref: VariableRef
    attributes: tuple[VariableAttribute, ...] = field(default_factory=tuple)
    characteristics: VariableCharacteristics | None = None


@dataclass(frozen=True, slots=True)
class VariableResult:
    """One result of GetVariables or SetVariables.

    For a Get, ``value`` is the attribute's value as read; for a Set, the value that was asked
    for (the charger does not echo it; the adapter pairs it from the request). ``reason`` is
    the charger's statusInfo reasonCode, if any.
    """

    ref: VariableRef
    status: str
    attribute_type: str = "Actual"
    value: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class VariableRequest:
    """One item of a GetVariables (``value`` None) or SetVariables request."""

    ref: VariableRef
    attribute_type: str = "Actual"
    value: str | None = None
